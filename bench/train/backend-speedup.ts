// Runs in: a plain Node process (npm run bench:train-speedup). How much faster the training acceptance runs
// on the emonas-cpu engine than on tfjs's own cpu backend: the same request as `emonas train --genome small`
// on Task04_Hippocampus (same seed, split, patch and batch), cut to a few epochs of a few steps because the
// cpu backend needs minutes per epoch, trained once per backend in the same run. Prints the median step
// time, the wall time of the whole training (preparation, steps, validation on whole volumes) and the ratios.
// Options: --dataset <folder> --epochs N --steps N.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainCandidate } from '../../core/service/train.ts';
import { median } from '../median.ts';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '/work/shared/data/Task04_Hippocampus' },
    epochs: { type: 'string', default: '2' },
    steps: { type: 'string', default: '4' },
  },
});

interface Timing {
  backend: string;
  stepMs: number;
  wallSeconds: number;
}

async function timeTraining(backend: string): Promise<Timing> {
  // The worker reads EMONAS_BACKEND when it starts, and each trainCandidate forks a fresh worker.
  process.env.EMONAS_BACKEND = backend;
  const out = await mkdtemp(join(tmpdir(), `emonas-speedup-${backend}-`));
  const stepMs: number[] = [];
  let last = 0;
  const t0 = Date.now();
  try {
    const result = await trainCandidate(
      {
        dataset: values.dataset,
        genome: 'small',
        out: join(out, 'model'),
        epochs: Number(values.epochs),
        stepsPerEpoch: Number(values.steps),
        // No time budget: both backends run every epoch of the cut-down run.
        maxMinutes: 0,
      },
      {
        onEvent(e) {
          const now = performance.now();
          // The first step of an epoch also pays for the batch pipeline's start: time the steps after it.
          if (e.type === 'step' && e.step > 0) stepMs.push(now - last);
          if (e.type === 'step') last = now;
          if (e.type === 'epoch')
            process.stderr.write(
              `  ${backend}: epoch ${e.record.epoch + 1} in ${e.record.seconds.toFixed(1)} s\n`,
            );
        },
      },
    );
    if (result.status !== 'completed')
      throw new Error(`${backend}: training failed: ${result.reason?.message}`);
    return { backend: result.backend, stepMs: median(stepMs), wallSeconds: (Date.now() - t0) / 1000 };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

process.stdout.write(
  `Training acceptance cut to ${values.epochs} epochs of ${values.steps} steps (small genome, Task04_Hippocampus)\n`,
);
const ours = await timeTraining('emonas-cpu');
const cpu = await timeTraining('cpu');
process.stdout.write('  backend        ms/step   whole training (s)\n');
for (const t of [ours, cpu]) {
  process.stdout.write(
    `  ${t.backend.padEnd(12)} ${t.stepMs.toFixed(0).padStart(8)} ${t.wallSeconds.toFixed(1).padStart(20)}\n`,
  );
}
process.stdout.write(
  `  speedup ratio cpu / emonas-cpu: ${(cpu.stepMs / ours.stepMs).toFixed(1)} per step, ` +
    `${(cpu.wallSeconds / ours.wallSeconds).toFixed(1)} for the whole training\n`,
);
