import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoCommand } from '../../../core/cli/cmd-demo.ts';
import { RUN_FILES } from '../../../core/runs/run-folder.ts';
import { presetConfig } from '../../../core/search/config.ts';
import { DEMO_DEFAULTS } from '../../../core/service/search-demo.ts';
import { startSearch } from '../../../core/service/search.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { tinySearchConfig } from '../../fixtures/tiny-search.ts';

describe('emonas demo --seed', () => {
  const dirs = tempDirs('demo-cli');
  afterAll(dirs.cleanup);

  it('defaults to the quick preset’s own seed and says so in its help', () => {
    const quick = presetConfig('samea', 'quick').seed;
    expect(DEMO_DEFAULTS.seed).toBe(quick);
    expect(demoCommand.usage).toContain('[--seed S]');
    expect(demoCommand.usage).toMatch(
      new RegExp(`--seed S +the search's seed \\(default ${quick}, the quick preset's own;`),
    );
  });

  it('refuses a seed that is not a whole number before starting anything', async () => {
    const out = join(dirs.make(), 'run');
    await expect(demoCommand.run(['--seed', 'lucky', '--out', out])).rejects.toThrow(
      'emonas demo: --seed takes a number, not "lucky"',
    );
    await expect(demoCommand.run(['--seed', '2.5', '--out', out])).rejects.toThrow(
      'Setting seed must be a whole number of at least 0.',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to continue a demo run cancelled in the app, naming --out, and leaves it as it was', async () => {
    const runDir = join(dirs.make(), 'run');
    await startSearch({ runDir, config: tinySearchConfig(2), problem: { kind: 'formula' } });
    writeFileSync(join(runDir, RUN_FILES.cancelled), '{}\n');
    const before = readdirSync(runDir).sort();
    await expect(demoCommand.run(['--out', runDir])).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('was cancelled, so it is not continued'),
    });
    await expect(demoCommand.run(['--out', runDir])).rejects.toThrow('another --out');
    expect(readdirSync(runDir).sort()).toEqual(before);
  });
});
