// Runs in: a training worker (writes and reads), the engine (reads the job back for `emonas train
// --resume`). The per-epoch checkpoint a new process resumes a candidate's training from: the job it
// belongs to, the epoch's weights, Adam's state, the epoch records and every counter of the loop, in
// one file replaced atomically (core/io's writeFileAtomic with fsync), so an abort or a kill at any moment
// leaves the previous epoch's checkpoint whole.
//
// Layout: 8 bytes "EMNSCKPT", uint32 LE header length, the header as UTF-8 JSON, zero padding to a
// multiple of 4 bytes, then the float32 LE values of every tensor the header lists, in its order.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { RandomState } from '../base/random.ts';
import { writeFileAtomic } from '../io/files.ts';
import type { EpochRecord, StopReason, TrainJob } from './job.ts';
import type { PlateauState, ScheduleState } from './schedule.ts';

export const TRAINING_CHECKPOINT_FILE = 'training-checkpoint.bin';
const MAGIC = 'EMNSCKPT';
const FORMAT = 'emonas-train-checkpoint-1';

export interface SavedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Everything of the training loop besides the tensors, as it stands after a completed epoch. */
export interface LoopState {
  /** 0-based: the epoch this checkpoint was saved after. */
  epoch: number;
  records: EpochRecord[];
  bestEpoch: number | null;
  bestValLoss: number | null;
  earlyStopping: ScheduleState | null;
  plateau: PlateauState | null;
  /** Adam's learning rate for the next epoch. */
  learningRate: number;
  /** The 'data' stream (patch sampling, augmentation, case order). */
  data: RandomState;
  /** Training cases still to draw before the next shuffle, as indices into job.train, drawn from the end. */
  queue: number[];
  /** Seconds of training so far over every run, for the time budget. */
  seconds: number;
  stepSeconds: number;
  validationSeconds: number;
  /** Set when this epoch ended the training: a resume only reports the result. */
  stoppedBy: StopReason | null;
  backend: string;
}

export interface OptimizerSnapshot {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
  firstMoments: SavedTensor[];
  secondMoments: SavedTensor[];
}

export interface TrainingCheckpoint {
  /** jobFingerprint(job): a checkpoint resumes only the job it was made for. */
  fingerprint: string;
  job: TrainJob;
  loop: LoopState;
  weights: SavedTensor[];
  optimizer: OptimizerSnapshot;
}

interface Header {
  format: typeof FORMAT;
  fingerprint: string;
  job: TrainJob;
  loop: LoopState;
  optimizer: { iterations: number; accBeta1: number; accBeta2: number };
  tensors: { group: 'weights' | 'first' | 'second'; name: string; shape: number[] }[];
  savedAt: string;
}

export function checkpointPath(job: TrainJob): string {
  return join(job.outDir, TRAINING_CHECKPOINT_FILE);
}

/** JSON with object keys sorted, so the same job always gives the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * What makes two trainings the same: genome, plan, settings (seed included), the split and the weights it
 * started from (by hash; absent for a random start, which keeps older fingerprints). Not the folders:
 * shared storage may be mounted elsewhere on the node a requeued job lands on.
 */
export function jobFingerprint(job: TrainJob): string {
  const text = canonicalJson({
    genome: job.genome,
    plan: job.plan,
    settings: job.settings,
    train: job.train.map((c) => c.id),
    val: job.val.map((c) => c.id),
    initialWeights: job.initialWeights && {
      source: job.initialWeights.source,
      sha256: job.initialWeights.sha256,
    },
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

// A validation loss or Dice can be NaN (a network that outputs NaN); JSON would turn it into null.
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const nonFiniteOut = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && !Number.isFinite(v) ? `${v}` : v;
const nonFiniteIn = (_key: string, v: unknown): unknown =>
  typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v;

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function encode(checkpoint: TrainingCheckpoint): Buffer {
  const groups = [
    ['weights', checkpoint.weights],
    ['first', checkpoint.optimizer.firstMoments],
    ['second', checkpoint.optimizer.secondMoments],
  ] as const;
  const tensors = groups.flatMap(([group, list]) => list.map((t) => ({ group, t })));
  const { iterations, accBeta1, accBeta2 } = checkpoint.optimizer;
  const header: Header = {
    format: FORMAT,
    fingerprint: checkpoint.fingerprint,
    job: checkpoint.job,
    loop: checkpoint.loop,
    optimizer: { iterations, accBeta1, accBeta2 },
    tensors: tensors.map(({ group, t }) => ({ group, name: t.name, shape: t.shape })),
    savedAt: new Date().toISOString(),
  };
  const json = Buffer.from(JSON.stringify(header, nonFiniteOut), 'utf8');
  const dataStart = Math.ceil((12 + json.length) / 4) * 4;
  const floats = tensors.reduce((n, { t }) => n + t.values.length, 0);
  const out = Buffer.alloc(dataStart + floats * 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  const view = new Float32Array(out.buffer, out.byteOffset + dataStart, floats);
  let at = 0;
  for (const { t } of tensors) {
    view.set(t.values, at);
    at += t.values.length;
  }
  return out;
}

/** Why a file is not a usable checkpoint, or the checkpoint. */
function decode(bytes: Buffer): TrainingCheckpoint | string {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return 'it is not a training checkpoint';
  const length = bytes.readUInt32LE(8);
  if (12 + length > bytes.length) return 'it is cut short';
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + length), nonFiniteIn) as Header;
  } catch {
    return 'its header is damaged';
  }
  if (header.format !== FORMAT || !Array.isArray(header.tensors)) {
    return 'it was written by another version of Emonas Studio';
  }
  const dataStart = Math.ceil((12 + length) / 4) * 4;
  const floats = header.tensors.reduce((n, t) => n + sizeOf(t.shape), 0);
  if (bytes.length !== dataStart + floats * 4) return 'its size does not match its contents';
  // A copy, aligned for Float32Array whatever the Buffer's offset in its pool.
  const data = new Float32Array(floats);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  let at = 0;
  const weights: SavedTensor[] = [];
  const first: SavedTensor[] = [];
  const second: SavedTensor[] = [];
  for (const t of header.tensors) {
    const n = sizeOf(t.shape);
    const saved = { name: t.name, shape: t.shape, values: data.subarray(at, at + n) };
    at += n;
    (t.group === 'weights' ? weights : t.group === 'first' ? first : second).push(saved);
  }
  return {
    fingerprint: header.fingerprint,
    job: header.job,
    loop: header.loop,
    weights,
    optimizer: { ...header.optimizer, firstMoments: first, secondMoments: second },
  };
}

/** Replaces the checkpoint at `path` atomically, on disk before it replaces the previous one. */
export async function writeCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  try {
    await writeFileAtomic(path, encode(checkpoint), { fsync: true });
  } catch (err) {
    if (!(err instanceof EmonasError) || err.code !== 'disk_full') throw err;
    throw new EmonasError(
      'disk_full',
      `The disk is full: the training checkpoint ${path} could not be written. Free some space and resume the training.`,
      { file: path, cause: err },
    );
  }
}

export type CheckpointLookup =
  { found: true; checkpoint: TrainingCheckpoint } | { found: false; reason: string | null };

/**
 * The checkpoint at `path`; with `fingerprint`, only if it was made for that job. `reason` says why an
 * existing file cannot be used (null: there is no file).
 */
export async function readCheckpoint(path: string, fingerprint?: string): Promise<CheckpointLookup> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return { found: false, reason: null };
  }
  const decoded = decode(bytes);
  if (typeof decoded === 'string') return { found: false, reason: `${path} cannot be used: ${decoded}.` };
  if (fingerprint !== undefined && decoded.fingerprint !== fingerprint) {
    return {
      found: false,
      reason: `${path} belongs to another training (another genome, settings, seed, split or starting weights).`,
    };
  }
  return { found: true, checkpoint: decoded };
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}
