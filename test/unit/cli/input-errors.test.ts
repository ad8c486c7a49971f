// The command line with wrong inputs: `emonas runs` on a file says so in words, and `emonas predict` with
// one broken image among good ones writes every good one and names the bad one, with exit status 1.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { predictCommand } from '../../../core/cli/cmd-predict.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeCandidateModel, writeFormulaRun, writeSyntheticMsd } from '../viewer/fixtures.ts';

const temp = tempDirs('cli-input-errors');
afterAll(() => temp.cleanup());

const EMONAS = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));

function emonas(args: string[]) {
  return spawnSync(process.execPath, [EMONAS, ...args], { encoding: 'utf8' });
}

describe('emonas runs', () => {
  it('says in words that a file is not a folder, and that a missing folder does not exist', () => {
    const file = join(temp.make(), 'passwd');
    writeFileSync(file, 'root:x:0:0::/root:/bin/sh\n');
    const onFile = emonas(['runs', file]);
    expect(onFile.status).toBe(2);
    expect(onFile.stderr.trim()).toBe(
      `emonas: emonas runs: ${file} is a file, not a folder; give a run folder or a folder that holds runs.`,
    );
    expect(onFile.stderr).not.toContain('ENOTDIR');
    const missing = join(temp.make(), 'no-such-folder');
    const onMissing = emonas(['runs', missing]);
    expect(onMissing.status).toBe(1);
    expect(onMissing.stderr).toContain(`${missing} does not exist`);
    expect(onMissing.stderr).not.toContain('ENOENT');
  });
});

describe('emonas predict', () => {
  it('writes every good image, names the broken one and exits 1', async () => {
    const dataset = await writeSyntheticMsd(temp.make(), { count: 3 });
    const { front } = await writeFormulaRun(join(temp.make(), 'run'));
    const smallest = [...front].sort((a, b) => a.params - b.params)[0];
    if (!smallest) throw new Error('the formula run should have a front');
    const model = join(temp.make(), 'model');
    await writeCandidateModel(model, dataset.root, { genome: smallest.genome, val: dataset.ids.slice(0, 1) });

    const input = join(temp.make(), 'input');
    mkdirSync(input);
    const good = dataset.ids.slice(0, 2).map((id) => `${id}.nii.gz`);
    for (const name of good) copyFileSync(join(dataset.root, 'imagesTr', name), join(input, name));
    // Sorted between the good ones, so a stop at the first bad image would leave one unwritten.
    const broken = join(input, 'synthetic_001b.nii.gz');
    writeFileSync(broken, 'this is not a NIfTI file');
    const out = join(temp.make(), 'out');

    const stderr: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let status: number;
    try {
      status = await predictCommand.run(['--model', model, '--input', input, '--out', out]);
    } finally {
      spy.mockRestore();
      stdout.mockRestore();
    }
    expect(status).toBe(1);
    for (const name of good) expect(existsSync(join(out, name)), name).toBe(true);
    expect(existsSync(join(out, 'synthetic_001b.nii.gz'))).toBe(false);
    const text = stderr.join('');
    expect(text).toContain(broken);
    expect(text).toContain('1 of 3 image(s) could not be predicted');
  }, 180_000);
});
