// `emonas export` as a user runs it: its help, a usage error for an unknown format, and an ONNX export of a
// model folder that the ONNX checker accepts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { useCpuBackend } from '../nn/cpu-backend.ts';
import { checkOnnx, requirePython, writeModelFolder } from './helpers.ts';

const temp = tempDirs('export-cli');
const emonas = (args: string[]) => spawnSync('npx', ['emonas', ...args], { encoding: 'utf8' });

describe('emonas export', () => {
  beforeAll(async () => {
    requirePython(['onnx'], 'python3-onnx');
    await useCpuBackend();
  });
  afterAll(() => temp.cleanup());

  it('explains itself with --help', () => {
    const r = emonas(['export', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'Usage: emonas export --model <dir> --format onnx|pytorch|tfjs --out <folder>',
    );
    expect(r.stdout).toContain('weights.safetensors');
  });

  it('refuses an unknown format with a one-line reason and status 2', () => {
    const r = emonas(['export', '--model', temp.make(), '--format', 'keras', '--out', temp.make()]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('emonas: emonas export: --format takes tfjs, pytorch, onnx, not "keras"');
  });

  it('writes an ONNX export of a model folder', { timeout: 120_000 }, async () => {
    const model = temp.make();
    (await writeModelFolder(model, builtinGenome('small'), 3, [8, 8, 8], 1)).dispose();
    const out = join(temp.make(), 'onnx');
    const r = emonas(['export', '--model', model, '--format', 'onnx', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { folder: string; files: string[] };
    expect(result).toEqual({ folder: out, files: [join(out, 'model.onnx'), join(out, 'README.md')] });
    expect(checkOnnx(join(out, 'model.onnx')).outputs).toEqual(['logits', 'probabilities']);
  });
});
