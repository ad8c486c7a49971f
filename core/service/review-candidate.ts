// Runs in: the engine. A trained candidate as the review finds it: its folder inside the run (a model folder
// as emonas train writes one: model.json, weights.bin, emonas-model.json and split.json), the dataset it was
// trained on, its validation cases, and a stamp of its weights so nothing computed from other weights is
// ever shown as its own.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { CaseEntry, DatasetManifest } from '../datasets/case-table.ts';
import { readDatasetLayout } from '../datasets/detect.ts';
import { readJson } from '../io/files.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../nn/save-load.ts';
import { MODEL_CARD_FILE, readModelCard, type ModelCard } from '../train/model-card.ts';
import type { PredictionLauncher } from './review-worker-serve.ts';

export interface CandidateRef {
  runDir: string;
  runId: string;
  candidateId: string;
  /**
   * How the engine that opens the candidate starts its prediction worker (the host's launcher, so every
   * review, case and export of it predicts the same way); absent, the worker is forked.
   */
  launchPrediction?: PredictionLauncher;
}

export interface OpenedCandidate {
  ref: CandidateRef;
  /** The candidate's folder: a model folder as emonas train writes it. */
  dir: string;
  card: ModelCard;
  /** Identifies the weights: predictions made with others are stale. */
  stamp: string;
  manifest: DatasetManifest;
  /** The validation cases of the candidate's split, in split order. */
  validation: CaseEntry[];
}

export function candidateFolder(ref: CandidateRef): string {
  return join(ref.runDir, 'candidates', ref.candidateId);
}

export interface CandidateSplit {
  /** The dataset folder the candidate was trained on. */
  dataset: string;
  train: string[];
  val: string[];
  test: string[];
  seed: number | null;
}

const isIdList = (v: unknown): v is string[] => Array.isArray(v) && v.every((id) => typeof id === 'string');

/** The candidate's split.json, as emonas train writes it. */
export async function readCandidateSplit(dir: string, ref: CandidateRef): Promise<CandidateSplit> {
  const file = join(dir, 'split.json');
  const split = (await readJson(file)) as Record<string, unknown> | undefined;
  if (typeof split?.dataset !== 'string' || !isIdList(split.val)) {
    throw new EmonasError(
      'unreadable_file',
      `${file} is missing or damaged, so the validation cases of candidate ${ref.candidateId} are unknown; train the candidate again.`,
      { file },
    );
  }
  return {
    dataset: split.dataset,
    train: isIdList(split.train) ? split.train : [],
    val: split.val,
    test: isIdList(split.test) ? split.test : [],
    seed: typeof split.seed === 'number' ? split.seed : null,
  };
}

/** The model's weights and card, hashed: enough to tell two trainings of one candidate apart. */
export async function modelStamp(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of [WEIGHTS_FILE, MODEL_FILE, MODEL_CARD_FILE]) {
    const file = join(dir, name);
    try {
      hash.update(await readFile(file));
    } catch {
      throw new EmonasError(
        'not_found',
        `${file} is missing, so the trained network in ${dir} is incomplete; train the candidate again.`,
        { file },
      );
    }
  }
  return hash.digest('hex').slice(0, 32);
}

/** Everything a review needs from the candidate's folder and the dataset it was trained on. */
export async function openCandidate(ref: CandidateRef): Promise<OpenedCandidate> {
  const dir = candidateFolder(ref);
  if (!existsSync(dir)) {
    throw new EmonasError(
      'not_found',
      `Run ${ref.runId} has no candidate ${ref.candidateId} (no folder ${dir}); pick one from the run's front.`,
      { file: dir },
    );
  }
  if (!existsSync(join(dir, MODEL_CARD_FILE))) {
    throw new EmonasError(
      'not_found',
      `Candidate ${ref.candidateId} of run ${ref.runId} has no trained network (${MODEL_CARD_FILE} is missing in ${dir}); only trained candidates can be reviewed.`,
      { file: join(dir, MODEL_CARD_FILE) },
    );
  }
  const card = await readModelCard(dir);
  const split = await readCandidateSplit(dir, ref);
  let manifest: DatasetManifest;
  try {
    manifest = await readDatasetLayout(split.dataset);
  } catch (err) {
    throw new EmonasError(
      'not_found',
      `The dataset folder ${split.dataset} that candidate ${ref.candidateId} was trained on cannot be read (${(err as Error).message}); put the dataset back where it was.`,
      { file: split.dataset, cause: err },
    );
  }
  const byId = new Map(manifest.cases.map((c) => [c.id, c]));
  const validation: CaseEntry[] = [];
  for (const id of split.val) {
    const entry = byId.get(id);
    if (!entry?.label) {
      throw new EmonasError(
        'invalid_dataset',
        `The dataset folder ${split.dataset} lacks validation case ${id} of candidate ${ref.candidateId} (or its label map); put the dataset back as it was when the candidate was trained.`,
        { file: split.dataset },
      );
    }
    validation.push(entry);
  }
  return { ref, dir, card, stamp: await modelStamp(dir), manifest, validation };
}

export function validationCase(opened: OpenedCandidate, caseId: string): CaseEntry {
  const entry = opened.validation.find((c) => c.id === caseId);
  if (!entry) {
    throw new EmonasError(
      'not_found',
      `Case ${caseId} is not one of the validation cases of candidate ${opened.ref.candidateId}; pick one from its review.`,
    );
  }
  return entry;
}
