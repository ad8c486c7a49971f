// Runs in: a training worker (or a test, in process). Trains one candidate end to end: preprocessed cases
// from the cache, the genome's network, Adam at the genome's learning rate on 1 - MCDice over augmented
// patches, validation after every epoch (whole volumes, or the reference protocol's slabs), the best
// epoch's weights kept on disk, early stopping and learning-rate reduction as the reference (method.md
// section 5.1), and f1 / f2 at the end.
// After every epoch a checkpoint (checkpoint.ts) lets a new process resume the run as if never stopped.
// Every tensor it makes is disposed: a search trains hundreds of candidates in one worker's lifetime.
import { basename, dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../base/errors.ts';
import { RandomStream } from '../base/random.ts';
import { loadPreparedCases, type CanonicalLoader } from '../datasets/pipeline/cache.ts';
import type { Patch } from '../datasets/pipeline/patch.ts';
import type { PreparedCase } from '../datasets/pipeline/prepared-case.ts';
import { removeStalePartials } from '../io/files.ts';
import { buildModel } from '../nn/build-model.ts';
import { loadModel, MODEL_FILE, saveModel, WEIGHTS_FILE } from '../nn/save-load.ts';
import {
  checkpointPath,
  jobFingerprint,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
  type LoopState,
  type SavedTensor,
  type TrainingCheckpoint,
} from './checkpoint.ts';
import { batchTensors, drawPatch } from './batch.ts';
import { caseDice } from './dice.ts';
import { appendEpochLog, startEpochLog } from './epoch-log.ts';
import { predictProbabilities } from './inference.ts';
import { initialWeightsMismatch, readInitialTensors } from './initial-weights.ts';
import {
  outputChannels,
  type CandidateResult,
  type EpochRecord,
  type InitialWeights,
  type StopReason,
  type TrainEvent,
  type TrainJob,
} from './job.ts';
import { softDiceLoss } from './loss.ts';
import { MODEL_CARD_FILE, writeModelCard, type ModelCard } from './model-card.ts';
import { computeObjectives, worstF1 } from './objectives.ts';
import { AdjustableAdam } from './optimizer.ts';
import { argmaxClasses, decideOnValidation, type StoredPostprocessing } from './postprocess-decision.ts';
import { EarlyStopping, LearningRatePlateau } from './schedule.ts';
import { protocolOf } from './setup/protocol.ts';
import { validateOnSlabs, type Validation } from './slab-validation.ts';

export interface TrainHooks {
  /** Reads a case in the canonical orientation when the cache lacks it. */
  load: CanonicalLoader;
  /** The tfjs backend already selected in this process, for the record. */
  backend: string;
  onEvent?: (event: TrainEvent) => void;
  /** Aborting cancels at the next step; the last completed epoch's checkpoint stays for a resume. */
  signal?: AbortSignal;
  /** Continue from the checkpoint when it was made for this same job; any other one is ignored. */
  resume?: boolean;
  /** Where the per-epoch checkpoint goes (default: TRAINING_CHECKPOINT_FILE in job.outDir). */
  checkpointPath?: string;
  /** After each epoch, once its checkpoint is on disk; `epoch` is 0-based. */
  onCheckpoint?: (epoch: number, path: string) => void;
  /** Keep the checkpoint once training has ended (default: remove it; a finished candidate needs none). */
  keepCheckpoint?: boolean;
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmonasError('cancelled', 'Training was cancelled.');
}

/** The checkpoint to resume from, or why there is none to use (null: no file, or no resume asked). */
async function findCheckpoint(
  fingerprint: string,
  path: string,
  resume: boolean | undefined,
): Promise<{ checkpoint: TrainingCheckpoint | null; ignored: string | null }> {
  if (!resume) return { checkpoint: null, ignored: null };
  const lookup = await readCheckpoint(path, fingerprint);
  return lookup.found
    ? { checkpoint: lookup.checkpoint, ignored: null }
    : { checkpoint: null, ignored: lookup.reason };
}

/** Puts the checkpoint's weights into the network; false when they do not fit it. */
function restoreWeights(model: LayersModel, weights: SavedTensor[]): boolean {
  const targets = model.weights;
  if (
    targets.length !== weights.length ||
    targets.some((w, i) => w.shape.join() !== (weights[i] as SavedTensor).shape.join())
  ) {
    return false;
  }
  const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  model.setWeights(tensors);
  tf.dispose(tensors);
  return true;
}

/** Puts the weights the job starts from into the new network, or refuses them with a reason naming the file. */
function startFrom(model: LayersModel, initial: InitialWeights): void {
  const read = readInitialTensors(initial.modelDir);
  const mismatch = initialWeightsMismatch(
    initial,
    read,
    model.weights.map((w) => [...w.shape] as number[]),
  );
  if (mismatch) throw mismatch;
  restoreWeights(model, read.tensors);
}

async function snapshotWeights(model: LayersModel): Promise<SavedTensor[]> {
  return Promise.all(
    model.weights.map(async (w) => ({
      name: w.name,
      shape: [...w.shape] as number[],
      values: Float32Array.from((await w.read().data()) as Float32Array),
    })),
  );
}

export async function runTraining(job: TrainJob, hooks: TrainHooks): Promise<CandidateResult> {
  const started = Date.now();
  const { genome, plan, settings: s } = job;
  const labelNames = plan.labels.slice(1).map((l) => l.name);
  const classes = plan.labels.length;
  const channels = outputChannels(plan.head, classes);
  const emit = (e: TrainEvent): void => hooks.onEvent?.(e);
  const path = hooks.checkpointPath ?? checkpointPath(job);
  // The job is the same at every epoch's checkpoint: its fingerprint is hashed once.
  const fingerprint = jobFingerprint(job);
  // A worker killed while saving its checkpoint or weights left temporary copies of them behind.
  await removeStalePartials(dirname(path), [basename(path)]);
  await removeStalePartials(job.outDir, [WEIGHTS_FILE, MODEL_FILE, MODEL_CARD_FILE]);
  const found = await findCheckpoint(fingerprint, path, hooks.resume);
  let checkpoint = found.checkpoint;
  let ignored = found.ignored;
  // A resumed training's time budget counts the runs before it (none once its checkpoint is refused below).
  let before = checkpoint?.loop.seconds ?? 0;
  const elapsed = (): number => before + (Date.now() - started) / 1000;

  const total = job.train.length + job.val.length;
  const prepared = await loadPreparedCases(
    [...job.train, ...job.val],
    plan,
    job.cacheFolder,
    hooks.load,
    (done, _t, fromCache) => {
      checkCancelled(hooks.signal);
      emit({ type: 'preparing', done, total, fromCache });
    },
  );
  const trainCases = prepared.slice(0, job.train.length);
  const valCases = prepared.slice(job.train.length);

  const model = buildModel(genome, {
    inputShape: [s.patch[0], s.patch[1], s.patch[2], 1],
    classes: channels,
    head: plan.head,
    seed: RandomStream.fromSeed(s.seed, 'init').nextUint32(),
    protocol: protocolOf(s),
  });
  const optimizer = new AdjustableAdam(genome.learningRate);
  try {
    if (checkpoint && !restoreWeights(model, checkpoint.weights)) {
      ignored = `${path} holds weights of another network; training starts again.`;
      checkpoint = null;
      before = 0;
    }
    if (checkpoint) optimizer.restoreState(checkpoint.optimizer);
    else {
      // A fresh start: an earlier training's checkpoint must not be resumed in place of this one's.
      await removeCheckpoint(path);
      // Only the weights carry over: Adam starts at step 0 with empty moments, since those of the training
      // that made the weights (a search candidate's) belong to its own, shorter schedule.
      if (job.initialWeights) startFrom(model, job.initialWeights);
    }
    const params = model.countParams();
    const card: ModelCard = {
      format: 'emonas-model-1',
      protocol: protocolOf(s),
      genome,
      plan: { ...plan, patch: [...s.patch] },
      params,
      backend: hooks.backend,
      bestEpoch: null,
      valDice: {},
      createdAt: new Date().toISOString(),
    };
    await startEpochLog(job.outDir, labelNames);
    const loop = checkpoint?.loop;
    if (loop) {
      // The log is rewritten from the checkpoint: a row appended after it belongs to an epoch run again.
      for (const record of loop.records) await appendEpochLog(job.outDir, labelNames, record);
      const best = loop.bestEpoch === null ? undefined : loop.records[loop.bestEpoch];
      // Killed between this checkpoint and saving its epoch as the best: the network is that epoch's.
      if (loop.bestEpoch === loop.epoch) await saveModel(model, job.outDir);
      await writeModelCard(job.outDir, {
        ...card,
        bestEpoch: loop.bestEpoch,
        valDice: best?.valDice ?? {},
      });
    } else {
      await writeModelCard(job.outDir, card);
    }
    emit({
      type: 'started',
      backend: hooks.backend,
      params,
      patch: s.patch,
      trainCases: trainCases.length,
      valCases: valCases.length,
      epochs: s.epochs,
      stepsPerEpoch: s.stepsPerEpoch,
      ...(loop && { resumedEpochs: loop.epoch + 1 }),
      ...(ignored !== null && { checkpointIgnored: ignored }),
    });

    const outcome = await trainEpochs(
      {
        job,
        hooks,
        model,
        optimizer,
        trainCases,
        valCases,
        channels,
        labelNames,
        card,
        elapsed,
        path,
        fingerprint,
      },
      checkpoint?.loop ?? null,
    );
    if (!hooks.keepCheckpoint) await removeCheckpoint(path);
    const objectives = computeObjectives(
      outcome.epochs,
      params,
      s.objectives,
      outcome.stoppedBy === 'time-limit',
    );
    const best = outcome.epochs[objectives.bestEpoch];
    if (outcome.diverged === undefined && best !== undefined) {
      const postprocessing = await decidePostprocessing(job, valCases, outcome.bestLabelMaps, hooks.signal);
      await writeModelCard(job.outDir, {
        ...card,
        bestEpoch: objectives.bestEpoch,
        valDice: best.valDice,
        postprocessing,
      });
    }
    const base = {
      params,
      f2: objectives.f2,
      epochsRun: outcome.epochs.length,
      backend: hooks.backend,
      outDir: job.outDir,
      seconds: elapsed(),
    };
    if (outcome.diverged !== undefined) {
      return {
        ...base,
        status: 'failed',
        reason: outcome.diverged.toData(),
        f1: worstF1(s.objectives),
        bestEpoch: objectives.bestEpoch,
        valDice: best?.valDice ?? {},
        valLoss: objectives.valLoss,
        trainLoss: objectives.trainLoss,
      };
    }
    return {
      ...base,
      status: 'completed',
      f1: objectives.f1,
      bestEpoch: objectives.bestEpoch,
      valDice: best?.valDice ?? {},
      valLoss: objectives.valLoss,
      trainLoss: objectives.trainLoss,
      stoppedBy: outcome.stoppedBy,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

interface LoopOutcome {
  epochs: EpochRecord[];
  stoppedBy: StopReason;
  diverged?: EmonasError;
  /** The best epoch's validation class maps, when that epoch ran in this process. */
  bestLabelMaps: Uint8Array[] | null;
}

/**
 * The keep-largest-component decision for the saved (best) network: on the best epoch's validation maps,
 * or, when those were made before a resume, on the validation cases predicted once by the saved weights.
 */
async function decidePostprocessing(
  job: TrainJob,
  valCases: PreparedCase[],
  bestLabelMaps: Uint8Array[] | null,
  signal: AbortSignal | undefined,
): Promise<StoredPostprocessing> {
  // The reference keeps every label's largest component whatever validation says (method.md section 6.3).
  const reference = protocolOf(job.settings) === 'reference';
  const basis = (fallback: StoredPostprocessing['basis']): StoredPostprocessing['basis'] =>
    reference ? 'reference-protocol' : fallback;
  if (bestLabelMaps) return decideOnValidation(valCases, bestLabelMaps, job.plan, basis('best-epoch'));
  const saved = await loadModel(job.outDir);
  try {
    const { labelMaps } = await validate(saved, valCases, job, [], signal);
    return decideOnValidation(valCases, labelMaps, job.plan, basis('predicted-after-training'));
  } finally {
    saved.dispose();
  }
}

interface LoopContext {
  job: TrainJob;
  hooks: TrainHooks;
  model: LayersModel;
  optimizer: AdjustableAdam;
  trainCases: PreparedCase[];
  valCases: PreparedCase[];
  channels: number;
  labelNames: string[];
  card: ModelCard;
  elapsed: () => number;
  /** The checkpoint file. */
  path: string;
  /** jobFingerprint(job), stamped on every checkpoint. */
  fingerprint: string;
}

async function trainEpochs(c: LoopContext, resumed: LoopState | null): Promise<LoopOutcome> {
  const { job, hooks, model, optimizer, trainCases, valCases, channels, labelNames, card, elapsed } = c;
  const { plan, settings: s } = job;
  const rng = resumed ? RandomStream.fromState(resumed.data) : RandomStream.fromSeed(s.seed, 'data');
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stopper = s.earlyStopping ? new EarlyStopping(s.earlyStopping) : undefined;
  const plateau = s.plateau ? new LearningRatePlateau(s.plateau, job.genome.learningRate) : undefined;
  const classes = plan.labels.length;
  const epochs: EpochRecord[] = resumed ? [...resumed.records] : [];
  // Indices into trainCases, drawn from the end; refilled by a shuffle when empty.
  let queue: number[] = resumed ? [...resumed.queue] : [];
  let bestValLoss = resumed?.bestValLoss ?? Infinity;
  let bestEpoch = resumed?.bestEpoch ?? null;
  let bestLabelMaps: Uint8Array[] | null = null;
  let lastEpochSeconds = 0;
  let stepSeconds = resumed?.stepSeconds ?? 0;
  let validationSeconds = resumed?.validationSeconds ?? 0;
  if (resumed) {
    if (resumed.earlyStopping) stopper?.restore(resumed.earlyStopping);
    if (resumed.plateau) plateau?.restore(resumed.plateau);
    optimizer.setLearningRate(resumed.learningRate);
    if (resumed.stoppedBy !== null) return { epochs, stoppedBy: resumed.stoppedBy, bestLabelMaps };
  }
  // Under a time budget the last epoch is cut short so that its validation still fits: the budget is
  // spent training, not waiting for an epoch that would overrun it. The first epoch always completes.
  const outOfTime = (epoch: number): boolean =>
    s.maxSeconds !== null && epoch > 0 && elapsed() + stepSeconds + validationSeconds > s.maxSeconds;

  for (let epoch = resumed ? resumed.epoch + 1 : 0; epoch < s.epochs; epoch++) {
    if (outOfTime(epoch)) return { epochs, stoppedBy: 'time-limit', bestLabelMaps };
    const epochStart = elapsed();
    let lossSum = 0;
    let steps = 0;
    let cutShort = false;
    for (let step = 0; step < s.stepsPerEpoch; step++) {
      checkCancelled(hooks.signal);
      if (step > 0 && outOfTime(epoch)) {
        cutShort = true;
        break;
      }
      const stepStart = elapsed();
      const patches: Patch[] = [];
      for (let b = 0; b < s.batchSize; b++) {
        if (queue.length === 0) queue = rng.shuffle(trainCases.map((_, i) => i));
        patches.push(drawPatch(trainCases[queue.pop() as number] as PreparedCase, rng, s, classes));
      }
      const { x, y } = batchTensors(patches, s.patch, channels, classes, plan.head);
      const cost = optimizer.minimize(
        () => softDiceLoss(y, model.apply(x, { training: true }) as tf.Tensor, plan.head),
        true,
        variables,
      );
      x.dispose();
      y.dispose();
      const loss = cost ? ((await cost.data())[0] as number) : NaN;
      cost?.dispose();
      if (!Number.isFinite(loss)) {
        const diverged = new EmonasError(
          'diverged',
          `Training diverged: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}. The learning rate ` +
            `${job.genome.learningRate} is probably too high for this network; the candidate is recorded as failed ` +
            `with the worst f1.`,
        );
        return { epochs, stoppedBy: 'budget', diverged, bestLabelMaps };
      }
      lossSum += loss;
      steps++;
      stepSeconds = Math.max(stepSeconds * 0.8, elapsed() - stepStart);
      hooks.onEvent?.({ type: 'step', epoch, step, steps: s.stepsPerEpoch, loss });
    }
    const trainLoss = lossSum / steps;
    const validationStart = elapsed();
    const validation = await validate(model, valCases, job, labelNames, hooks.signal);
    validationSeconds = elapsed() - validationStart;
    const record: EpochRecord = {
      epoch,
      trainLoss,
      valLoss: validation.valLoss,
      valDice: validation.valDice,
      learningRate: plateau?.learningRate ?? job.genome.learningRate,
      seconds: elapsed() - epochStart,
    };
    epochs.push(record);
    const best = record.valLoss < bestValLoss;
    if (best) {
      bestValLoss = record.valLoss;
      bestEpoch = epoch;
      bestLabelMaps = validation.labelMaps;
    }
    const stoppedBy: StopReason | null = cutShort
      ? 'time-limit'
      : stopper?.update(record.valLoss)
        ? 'early-stopping'
        : epoch + 1 === s.epochs
          ? 'budget'
          : null;
    if (stoppedBy === null && plateau) optimizer.setLearningRate(plateau.update(trainLoss));

    // The checkpoint first: a kill before the best weights are saved is repaired by the resume (the
    // network it restores is this epoch's), while best weights saved ahead of their checkpoint could
    // belong to an epoch the resume runs again.
    await writeCheckpoint(c.path, {
      fingerprint: c.fingerprint,
      job,
      weights: await snapshotWeights(model),
      optimizer: await optimizer.captureState(),
      loop: {
        epoch,
        records: epochs,
        bestEpoch,
        bestValLoss: Number.isFinite(bestValLoss) ? bestValLoss : null,
        earlyStopping: stopper?.state() ?? null,
        plateau: plateau?.state() ?? null,
        learningRate: optimizer.rate,
        data: rng.state(),
        queue,
        seconds: elapsed(),
        stepSeconds,
        validationSeconds,
        stoppedBy,
        backend: hooks.backend,
      },
    });
    hooks.onCheckpoint?.(epoch, c.path);
    if (best) {
      await saveModel(model, job.outDir);
      await writeModelCard(job.outDir, { ...card, bestEpoch: epoch, valDice: record.valDice });
    }
    await appendEpochLog(job.outDir, labelNames, record);
    lastEpochSeconds = elapsed() - epochStart;
    const remaining = s.epochs - epoch - 1;
    const budgetLeft = s.maxSeconds === null ? Infinity : Math.max(0, s.maxSeconds - elapsed());
    hooks.onEvent?.({
      type: 'epoch',
      record,
      best,
      etaSeconds: Math.min(remaining * lastEpochSeconds, budgetLeft),
    });
    if (stoppedBy !== null) return { epochs, stoppedBy, bestLabelMaps };
  }
  return { epochs, stoppedBy: 'budget', bestLabelMaps };
}

/**
 * The validation loss and Dice of the network, and each case's argmax class map (for post-processing):
 * on whole volumes ('emonas') or as the reference's batch Dice over slabs (slab-validation.ts).
 */
async function validate(
  model: LayersModel,
  cases: PreparedCase[],
  job: TrainJob,
  labelNames: string[],
  signal: AbortSignal | undefined,
): Promise<Validation> {
  if (protocolOf(job.settings) === 'reference') {
    return validateOnSlabs(model, cases, job, labelNames, signal);
  }
  const { plan } = job;
  const classes = plan.labels.length;
  const labelMaps: Uint8Array[] = [];
  let softSum = 0;
  const hardSum = new Array<number>(classes - 1).fill(0);
  for (const c of cases) {
    // Validating whole volumes takes seconds; a stop asked for meanwhile (a job's SIGTERM, with KillWait
    // before its SIGKILL) must not wait for the rest. The epoch is then trained again after a resume.
    checkCancelled(signal);
    const probabilities = await predictProbabilities(model, c.image, {
      patch: job.settings.patch,
      divisor: 2 ** ((job.genome.cells - 1) / 2),
      head: plan.head,
      classes,
    });
    const dice = caseDice(probabilities, c.label.data, classes);
    labelMaps.push(argmaxClasses(probabilities, c.label.data.length, classes));
    softSum += dice.soft.reduce((a, b) => a + b, 0) / dice.soft.length;
    dice.hard.forEach((d, k) => (hardSum[k] = (hardSum[k] as number) + d));
  }
  const n = Math.max(1, cases.length);
  const valDice: Record<string, number> = {};
  labelNames.forEach((name, k) => (valDice[name] = (hardSum[k] as number) / n));
  return { valLoss: 1 - softSum / n, valDice, labelMaps };
}
