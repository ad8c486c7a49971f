// Runs in: the rank-fidelity benchmark's process. One genome trained under one protocol through the public
// command (`emonas train`), in a process group of its own so the search's hard limit can stop the command
// and its training worker together; the numbers come from the model folder's result.json and
// training-log.csv, and land in measurement.json, whose presence marks the genome as measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson, writeFileAtomic } from '../../core/io/files.ts';
import { genomeToJson } from '../../core/searchspace/genome-json.ts';
import { readCheckpoint, TRAINING_CHECKPOINT_FILE } from '../../core/train/checkpoint.ts';
import { provenance, type Provenance } from '../record.ts';
import type { NamedGenome } from './genome-set.ts';

const EMONAS = fileURLToPath(new URL('../../bin/emonas.mjs', import.meta.url));
export const MEASUREMENT_FILE = 'measurement.json';

/** What every protocol of a benchmark folder shares: the data, the split and the training seed. */
export interface CommonSettings {
  dataset: string;
  /** `emonas train --split-seed`, and `--seed` (the weights' and the sampling's) but in seed repeats. */
  seed: number;
  valFraction: number;
  testFraction: number;
}

export interface Protocol {
  kind: 'cheap' | 'long';
  epochs: number;
  steps: number;
  /** `emonas train --max-minutes`: stop cleanly between epochs past it; 0 for none. */
  minutes: number;
  /** Stop the command outright past this (the search's hard limit); null for never. */
  hardLimitSeconds: number | null;
}

export function protocolId(p: Protocol): string {
  return `${p.kind}-${p.epochs}x${p.steps}-${p.minutes}min`;
}

/** One row of training-log.csv. */
export interface EpochRow {
  trainLoss: number;
  valLoss: number;
  /** Mean hard Dice over the foreground labels. */
  valDice: number;
  /** The epoch's training and validation seconds. */
  seconds: number;
}

export interface Measurement {
  genome: Record<string, unknown>;
  protocol: Protocol;
  status: 'completed' | 'failed';
  reason: string | null;
  /**
   * The command's whole run, start to exit (reading the dataset and starting the worker included); for a
   * resumed training, plus the logged epoch seconds of the attempts before (their set-up time is not known).
   */
  wallSeconds: number;
  /** `emonas train --seed`: the weights' and the sampling's (the split's is always the common seed). */
  weightSeed?: number;
  /** Set when the training continued an interrupted attempt: the epochs that attempt had finished. */
  resumedEpochs?: number;
  /** result.json's training seconds; null without one. */
  trainSeconds: number | null;
  backend: string | null;
  epochsRun: number;
  /** 0-based epoch of the lowest validation loss, whose weights the model folder keeps. */
  bestEpoch: number | null;
  stoppedBy: string | null;
  /** Hard Dice per label at the best epoch (result.json). */
  valDice: Record<string, number>;
  /** f1 as `emonas train` computed it (the reference's alpha and beta, C = epochs). */
  cliF1: number | null;
  epochs: EpochRow[];
  /** The code and machine that measured it (bench/record.ts); absent in measurements made before it was kept. */
  provenance?: Provenance;
}

interface ResultFile {
  status: 'completed' | 'failed';
  reason?: { message: string };
  f1: number;
  bestEpoch: number;
  epochsRun: number;
  valDice: Record<string, number>;
  stoppedBy?: string;
  backend: string;
  seconds: number;
}

/** The earlier measurement in dir, or null when the genome was not measured there. */
export async function readMeasurement(dir: string, entry: NamedGenome): Promise<Measurement | null> {
  const file = join(dir, MEASUREMENT_FILE);
  if (!existsSync(file)) return null;
  return checkedMeasurement(JSON.parse(await readFile(file, 'utf8')) as Measurement, entry, file);
}

/** m, after checking that it measured the genome the set names entry (read from source). */
export function checkedMeasurement(m: Measurement, entry: NamedGenome, source: string): Measurement {
  if (JSON.stringify(m.genome) !== JSON.stringify(genomeToJson(entry.genome))) {
    throw new Error(
      `${source} measured a different genome than "${entry.name}" of the genome set; the set changed since. ` +
        'Use another --out (or --record) folder, or remove that measurement to measure the genome again.',
    );
  }
  return m;
}

function parseLog(text: string): EpochRow[] {
  const [header, ...lines] = text.trim().split('\n');
  const columns = (header ?? '').split(',');
  const at = (name: string): number => columns.indexOf(name);
  const diceColumns = columns.flatMap((c, i) => (c.startsWith('val_dice_') ? [i] : []));
  return lines
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const cells = line.split(',').map(Number);
      const dice = diceColumns.map((i) => cells[i] as number);
      return {
        trainLoss: cells[at('loss')] as number,
        valLoss: cells[at('val_loss')] as number,
        valDice: dice.length > 0 ? dice.reduce((a, b) => a + b, 0) / dice.length : Number.NaN,
        seconds: cells[at('seconds')] as number,
      };
    });
}

/** The last lines of the command's output: why a training left no result.json. */
async function tail(file: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  return lines.slice(-3).join(' / ');
}

interface EarlierEpochs {
  count: number;
  seconds: number;
}

/**
 * The epochs an interrupted training's checkpoint holds and their seconds: the part of its wall time a
 * resume cannot see. The checkpoint, not the log, since a kill can fall between saving one and logging.
 */
async function checkpointEpochs(file: string): Promise<EarlierEpochs> {
  const lookup = await readCheckpoint(file);
  if (!lookup.found) return { count: 0, seconds: 0 };
  const records = lookup.checkpoint.loop.records;
  return { count: records.length, seconds: records.reduce((sum, r) => sum + r.seconds, 0) };
}

/** The training's per-epoch log; none before its first epoch. */
async function readLog(logPath: string): Promise<EpochRow[]> {
  return existsSync(logPath) ? parseLog(await readFile(logPath, 'utf8')) : [];
}

/**
 * Trains the genome under the protocol into dir and writes its measurement: a completed training, one that
 * failed with a result.json, or one stopped at the hard limit. A protocol without a hard limit continues an
 * interrupted earlier attempt from its checkpoint (`emonas train --resume`: the same weights, optimizer and
 * sampling state, so the result is the uninterrupted one's), because a long training is up to an hour of
 * this machine, and records one that ended before its measurement was written without training it again;
 * otherwise an unfinished attempt is discarded, as a resume would escape the hard limit.
 * `running` holds the command while it runs, so an interrupted benchmark can stop it. Throws when the
 * command ended without a result.
 */
export async function measure(
  entry: NamedGenome,
  protocol: Protocol,
  common: CommonSettings,
  dir: string,
  running: Set<ChildProcess>,
  weightSeed: number = common.seed,
): Promise<Measurement> {
  const model = join(dir, 'model');
  const logPath = join(model, 'training-log.csv');
  const genomeFile = join(dir, 'genome.json');
  const checkpointFile = join(model, TRAINING_CHECKPOINT_FILE);
  const keepEarlier =
    protocol.hardLimitSeconds === null &&
    JSON.stringify(await readJson(genomeFile)) === JSON.stringify(genomeToJson(entry.genome));
  const resume = keepEarlier && existsSync(checkpointFile);
  // Ended (result.json written, checkpoint removed) but stopped before its measurement was written.
  const trained = keepEarlier && !resume && existsSync(join(model, 'result.json'));
  let earlier: EarlierEpochs = { count: 0, seconds: 0 };
  if (resume) earlier = await checkpointEpochs(checkpointFile);
  else if (trained) {
    const rows = await readLog(logPath);
    earlier = { count: rows.length, seconds: rows.reduce((sum, r) => sum + r.seconds, 0) };
  } else await rm(model, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(genomeFile, JSON.stringify(genomeToJson(entry.genome), null, 2) + '\n');
  const logFile = join(dir, 'emonas-train.log');
  /** Runs `emonas train` (or its --resume) in a process group of its own, killed at the hard limit. */
  async function runCommand(): Promise<{ exit: number | null; timedOut: boolean; wallSeconds: number }> {
    const log = openSync(logFile, resume ? 'a' : 'w');
    const args = resume
      ? [EMONAS, 'train', '--resume', '--out', model]
      : [
          EMONAS,
          'train',
          ...['--dataset', common.dataset, '--genome', genomeFile, '--out', model],
          ...['--epochs', String(protocol.epochs), '--steps', String(protocol.steps)],
          ...['--max-minutes', String(protocol.minutes), '--seed', String(weightSeed)],
          ...['--split-seed', String(common.seed)],
          ...['--val-fraction', String(common.valFraction), '--test-fraction', String(common.testFraction)],
        ];
    const started = performance.now() - earlier.seconds * 1000;
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
    running.add(child);
    let timedOut = false;
    const timer =
      protocol.hardLimitSeconds === null
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          }, protocol.hardLimitSeconds * 1000);
    const exit = await new Promise<number | null>((done) => {
      child.once('exit', (code) => done(code));
      child.once('error', () => done(null));
    });
    clearTimeout(timer);
    running.delete(child);
    closeSync(log);
    return { exit, timedOut, wallSeconds: (performance.now() - started) / 1000 };
  }
  const { exit, timedOut, wallSeconds } = trained
    ? { exit: 0, timedOut: false, wallSeconds: earlier.seconds }
    : await runCommand();

  const result = timedOut
    ? undefined
    : ((await readJson(join(model, 'result.json'))) as ResultFile | undefined);
  if (!timedOut && result === undefined) {
    // Not the genome's result (a wrong dataset, a broken installation): recording it would keep it.
    throw new Error(
      `emonas train exited with ${exit ?? 'an error'} for genome ${entry.name} without a result.json ` +
        `(${logFile}): ${await tail(logFile)}`,
    );
  }
  const epochs = await readLog(logPath);
  let reason: string | null = null;
  if (timedOut) {
    reason = `time_limit: stopped at the hard limit of ${protocol.hardLimitSeconds} s, as the search stops a candidate`;
  } else if (result?.status === 'failed') {
    reason = result.reason?.message ?? 'failed without a reason';
  }
  const measurement: Measurement = {
    genome: genomeToJson(entry.genome),
    protocol,
    status: result?.status === 'completed' ? 'completed' : 'failed',
    reason,
    wallSeconds,
    trainSeconds: result?.seconds ?? null,
    backend: result?.backend ?? null,
    epochsRun: result?.epochsRun ?? epochs.length,
    bestEpoch: result?.bestEpoch ?? null,
    stoppedBy: result?.stoppedBy ?? null,
    valDice: result?.valDice ?? {},
    cliF1: result?.f1 ?? null,
    epochs,
    weightSeed,
    ...(resume && { resumedEpochs: earlier.count }),
    provenance: provenance(),
  };
  await writeFileAtomic(join(dir, MEASUREMENT_FILE), JSON.stringify(measurement, null, 2) + '\n');
  return measurement;
}
