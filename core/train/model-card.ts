// Runs in: a training worker (writes) and the process that predicts (reads). The model folder's own
// description, emonas-model.json next to the tfjs model.json and weights.bin: everything prediction needs
// besides the weights (genome, preprocessing plan with the training patch, label table, head), and what
// the training measured.
import { readJsonFile, writeFileAtomic } from '../io/files.ts';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { protocolProblem, type TrainingProtocol } from '../base/training-protocol.ts';
import type { PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import { parseGenome } from '../searchspace/genome-json.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { StoredPostprocessing } from './postprocess-decision.ts';

export const MODEL_CARD_FILE = 'emonas-model.json';

export interface ModelCard {
  format: 'emonas-model-1';
  /**
   * The protocol it was trained with, which prediction follows by default ('reference': slab windows at a
   * stride of one slice, core/train/slab-inference.ts); absent in a folder written before the choice: 'emonas'.
   */
  protocol?: TrainingProtocol;
  genome: Genome;
  /** The plan as trained: its patch is the training patch and the inference window. */
  plan: PreprocessingPlan;
  params: number;
  backend: string;
  /** Filled once an epoch has been kept. */
  bestEpoch: number | null;
  valDice: Record<string, number>;
  createdAt: string;
  /**
   * The keep-largest-component decision per label, made on the validation cases when training ended, with
   * the mean Dice before and after that justified it. Absent in a folder written before it was decided, or
   * by a training that failed or is still running: prediction then leaves its label maps as they are.
   */
  postprocessing?: StoredPostprocessing;
}

export async function writeModelCard(dir: string, card: ModelCard): Promise<void> {
  const file = join(dir, MODEL_CARD_FILE);
  await writeFileAtomic(file, JSON.stringify(card, null, 2) + '\n');
}

export async function readModelCard(dir: string): Promise<ModelCard> {
  const file = join(dir, MODEL_CARD_FILE);
  const card = (await readJsonFile(file, (problem) =>
    problem.kind === 'unreadable'
      ? new EmonasError(
          'not_found',
          `${dir} is not a trained model folder: ${MODEL_CARD_FILE} is missing there. Point --model at the folder emonas train wrote (its --out).`,
          { file },
        )
      : new EmonasError('unreadable_file', `${file} is damaged (not valid JSON); train the model again.`, {
          file,
        }),
  )) as ModelCard;
  if (
    card.format !== 'emonas-model-1' ||
    typeof card.plan !== 'object' ||
    card.plan?.format !== 'emonas-plan-1'
  ) {
    throw new EmonasError('unsupported_format', `${file} was not written by this version of Emonas Studio.`, {
      file,
    });
  }
  card.genome = parseGenome(card.genome, file);
  const problem =
    card.protocol === undefined ? null : protocolProblem(card.protocol, `"protocol" in ${file}`);
  if (problem) throw new EmonasError('unreadable_file', problem, { file });
  if (card.postprocessing !== undefined && !isStoredPostprocessing(card.postprocessing)) {
    throw new EmonasError(
      'unreadable_file',
      `${file} has a damaged "postprocessing" entry (it needs connectivity 6 or 26, a case count and one { label, apply } per label); delete the entry to predict without post-processing, or train the model again.`,
      { file },
    );
  }
  return card;
}

function isStoredPostprocessing(value: unknown): value is StoredPostprocessing {
  const p = value as Partial<StoredPostprocessing> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    (p.connectivity === 6 || p.connectivity === 26) &&
    typeof p.cases === 'number' &&
    Array.isArray(p.labels) &&
    p.labels.every(
      (d: unknown) =>
        typeof (d as { label?: unknown })?.label === 'number' &&
        typeof (d as { apply?: unknown }).apply === 'boolean',
    )
  );
}
