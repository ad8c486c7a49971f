import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readVolume, readVolumeHeader } from '../../../core/io/volume-files.ts';
import { prepareTraining } from '../../../core/train/setup/train-one.ts';
import { trainInWorker } from '../../../core/train/worker-host.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { writeSyntheticMsd } from './synthetic.ts';

const temp = tempDirs('train-worker');
let dataset = '';
let cache = '';
const EMONAS = join(import.meta.dirname, '../../../bin/emonas.mjs');

beforeAll(async () => {
  dataset = temp.make();
  cache = temp.make();
  await writeSyntheticMsd(dataset, 8, [12, 12, 12]);
});
afterAll(() => temp.cleanup());

/** Runs the emonas command with node directly (no npx layer, so the child of this pid is the worker). */
function emonas(args: string[], onStderr?: (text: string, pid: number) => void) {
  const child = spawn(process.execPath, [EMONAS, ...args], {
    env: { ...process.env, EMONAS_CACHE_DIR: cache },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, child.pid as number);
  });
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  );
}

function trainArgs(epochs: number): string[] {
  const split = ['--val-fraction', '0.25', '--test-fraction', '0.25'];
  return ['--genome', 'small', '--epochs', String(epochs), '--steps', '2', '--patch', '12,12,12', ...split];
}

describe('emonas train and predict', () => {
  it('trains a candidate in a worker, prints the result as JSON, and predicts held-out cases on their own grids', async () => {
    const out = join(temp.make(), 'model');
    const trained = await emonas(['train', '--dataset', dataset, '--out', out, '--json', ...trainArgs(2)]);
    expect(trained.stderr).toMatch(/Preprocessing plan for Synthetic/);
    expect(trained.stderr).toMatch(
      /Split by patient \(seed 0\): 4 training, 2 validation, 2 held-out test cases/,
    );
    expect(trained.status).toBe(0);
    const result = JSON.parse(trained.stdout);
    expect(result.status).toBe('completed');
    for (const key of ['f1', 'f2', 'params', 'bestEpoch']) expect(typeof result[key]).toBe('number');
    expect(Object.keys(result.valDice)).toEqual(['Ball', 'Box']);
    expect(result.outDir).toBe(out);
    expect(new Set(await readdir(out))).toEqual(
      new Set([
        'model.json',
        'weights.bin',
        'emonas-model.json',
        'split.json',
        'training-log.csv',
        'result.json',
        'worker.log',
      ]),
    );
    const split = JSON.parse(await readFile(join(out, 'split.json'), 'utf8'));
    expect(split.test).toHaveLength(2);
    expect(split.train.filter((id: string) => split.test.includes(id))).toEqual([]);

    const predictions = join(temp.make(), 'pred');
    const testImage = join(dataset, 'imagesTr', `${split.test[0]}.nii.gz`);
    const predicted = await emonas([
      'predict',
      '--model',
      out,
      '--input',
      testImage,
      '--out',
      predictions,
      '--json',
    ]);
    expect(predicted.status).toBe(0);
    const files = JSON.parse(predicted.stdout).files;
    expect(files.map((f: { output: string }) => f.output)).toEqual([
      join(predictions, `${split.test[0]}.nii.gz`),
    ]);
    const [source, label] = [await readVolumeHeader(testImage), await readVolume(files[0].output)];
    expect(label.shape).toEqual(source.shape);
    expect(label.spacing).toEqual(source.spacing);
    expect(label.origin).toEqual(source.origin);
    expect(label.direction).toEqual(source.direction);
    expect(label.dataType).toBe('uint8');
    expect([...new Set(label.data)].every((v) => v === 0 || v === 1 || v === 2)).toBe(true);
  });

  it('turns a worker killed mid-epoch into a failed candidate with a readable reason and exits cleanly, then resumes it', async () => {
    const out = join(temp.make(), 'killed');
    let killed = false;
    // Killed in its second epoch, once the first one's checkpoint is on disk; 6 epochs, so it cannot
    // finish before the kill lands.
    const run = await emonas(
      ['train', '--dataset', dataset, '--out', out, '--json', ...trainArgs(6)],
      (stderr, pid) => {
        if (killed || !/Training \[.*epoch 2 loss/.test(stderr)) return;
        const workers = readChildren(pid);
        if (workers.length === 1) {
          killed = true;
          process.kill(workers[0] as number, 'SIGKILL');
        }
      },
    );
    expect(killed).toBe(true);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /the candidate failed: The training worker was killed \(signal SIGKILL\) in epoch [2-6] of 6 \(step \d of 2\)/,
    );
    expect(run.stderr).toMatch(/The checkpoint of epoch [1-5] is kept in /);
    expect(run.stderr).toContain(`continue it with: emonas train --resume --out ${out}`);
    // The engine side ended cleanly: a result, no stack trace.
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const result = JSON.parse(run.stdout);
    expect(result.status).toBe('failed');
    expect(result.reason.code).toBe('worker_crashed');
    expect(result.f1).toBe(1.5);
    expect(result.f2).toBeCloseTo(Math.log(result.params), 12);
    expect(JSON.parse(await readFile(join(out, 'result.json'), 'utf8')).status).toBe('failed');

    const resumed = await emonas(['train', '--resume', '--out', out, '--json']);
    expect(resumed.stderr).toMatch(/Resuming after epoch [1-5], from its checkpoint\./);
    expect(resumed.status).toBe(0);
    const done = JSON.parse(resumed.stdout);
    expect(done).toMatchObject({ status: 'completed', epochsRun: 6, outDir: out });
    const log = (await readFile(join(out, 'training-log.csv'), 'utf8')).trim().split('\n');
    expect(log.map((row) => row.split(',')[0])).toEqual(['epoch', '0', '1', '2', '3', '4', '5']);
    expect((await readdir(out)).includes('training-checkpoint.bin')).toBe(false);

    const again = await emonas(['train', '--resume', '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/has finished already \(see result.json\); there is nothing to resume/);
    const mixed = await emonas(['train', '--resume', '--out', out, '--epochs', '3']);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(
      /--resume continues with the settings recorded in --out; leave out --epochs/,
    );
  });

  it('cancels a worker from the engine side', async () => {
    const prepared = await prepareTraining({
      dataset,
      genome: 'small',
      out: join(temp.make(), 'cancelled'),
      epochs: 3,
      stepsPerEpoch: 2,
      patch: [12, 12, 12],
      valFraction: 0.25,
      cacheDir: cache,
    });
    const run = trainInWorker(prepared.job, {
      onEvent: (e) => {
        if (e.type === 'step') run.cancel();
      },
    });
    const result = await run.result;
    expect(result.status).toBe('failed');
    expect(result.reason?.code).toBe('cancelled');
    expect(result.reason?.message).toMatch(/Training was cancelled in epoch 1/);
  });
});

function readChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
