import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoCommand } from '../../../core/cli/cmd-demo.ts';
import { presetConfig } from '../../../core/search/config.ts';
import { DEMO_DEFAULTS } from '../../../core/service/search-demo.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

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
});
