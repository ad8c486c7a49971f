// Runs in: the vitest worker (a forked process of its own per test file, so its peak RSS is the suite's).
// Shared by the hostile-input tests: real hippocampus cases copied into temporary dataset folders, the
// check that a failure is a typed EmonasError naming its file, a time limit per input, and the process's
// peak memory.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';

/** The bundled demo cases: real Decathlon hippocampus scans, present in every checkout. */
export const DEMO = fileURLToPath(
  new URL('../../../resources/demo/Task04_Hippocampus_demo', import.meta.url),
);

export const DEMO_CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004'];

export function demoImage(id: string): string {
  return join(DEMO, 'imagesTr', `${id}.nii.gz`);
}

export function demoLabel(id: string): string {
  return join(DEMO, 'labelsTr', `${id}.nii.gz`);
}

/**
 * An MSD folder at `root` holding copies of the given demo cases, and a dataset.json listing them plus
 * `extra` training entries written as given.
 */
export function makeMsdFolder(
  root: string,
  ids: string[],
  extra: { image: string; label: string }[] = [],
): void {
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'), { recursive: true });
  for (const id of ids) {
    copyFileSync(demoImage(id), join(root, 'imagesTr', `${id}.nii.gz`));
    copyFileSync(demoLabel(id), join(root, 'labelsTr', `${id}.nii.gz`));
  }
  const training = [
    ...ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
    ...extra,
  ];
  writeFileSync(
    join(root, 'dataset.json'),
    JSON.stringify({
      name: 'Hostile',
      labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' },
      numTraining: training.length,
      training,
    }),
  );
}

/**
 * Checks that `err` is what a bad file must give: an EmonasError (not a crash of another kind) whose message
 * names the file and ends a sentence.
 */
export function expectNamedError(err: unknown, file: string): EmonasError {
  if (!(err instanceof EmonasError)) {
    throw new Error(`${basename(file)}: expected an EmonasError, got ${String(err)}`, { cause: err });
  }
  expect(err.message, err.message).toContain(basename(file));
  expect(err.message).toMatch(/[.)]$/);
  return err;
}

/** The promise's outcome, or a failure when it takes longer than `ms` (a hang). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** This process's resident high-water mark in bytes: VmHWM, the mark of its own address space. */
function highWaterMark(): number {
  const line = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!line) throw new Error('/proc/self/status has no VmHWM line');
  return Number(line[1]) * 1024;
}

/**
 * How much this process's peak resident memory rose above its high-water mark when the probe was made, in
 * MiB. The high-water mark is read rather than sampled, so nothing between two samples is missed. Not from
 * getrusage: its maxrss also keeps the mark of the process image replaced by exec, here the forking vitest
 * parent's (seen in a clean-clone CI run: 242 MiB against a 40 MiB worker), and no reset touches it. VmHWM
 * is the worker's own, and the probe first resets it to the current resident memory ("5" into
 * /proc/self/clear_refs) so that an earlier, heavier test file in a reused worker does not count either.
 */
export function memoryProbe(): { peakGrowthMiB: () => number } {
  writeFileSync('/proc/self/clear_refs', '5');
  const mark = highWaterMark();
  // A few tens of MiB can stay above the resident size just sampled (memory freed since the reset); the
  // stale marks this guards against were 210 MiB and more.
  expect(mark - process.memoryUsage.rss(), 'the high-water mark was reset').toBeLessThan(64 * 2 ** 20);
  return {
    peakGrowthMiB: () => Math.max(0, highWaterMark() - mark) / 2 ** 20,
  };
}
