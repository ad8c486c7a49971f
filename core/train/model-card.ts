// Runs in: a training worker (writes) and the process that predicts (reads). The model folder's own
// description, emonas-model.json next to the tfjs model.json and weights.bin: everything prediction needs
// besides the weights (genome, preprocessing plan with the training patch, label table, head), and what
// the training measured.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/files.ts';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import type { PreprocessingPlan } from '../datasets/pipeline/plan.ts';
import { parseGenome } from '../searchspace/genome-json.ts';
import type { Genome } from '../searchspace/genome.ts';

export const MODEL_CARD_FILE = 'emonas-model.json';

export interface ModelCard {
  format: 'emonas-model-1';
  genome: Genome;
  /** The plan as trained: its patch is the training patch and the inference window. */
  plan: PreprocessingPlan;
  params: number;
  backend: string;
  /** Filled once an epoch has been kept. */
  bestEpoch: number | null;
  valDice: Record<string, number>;
  createdAt: string;
}

export async function writeModelCard(dir: string, card: ModelCard): Promise<void> {
  const file = join(dir, MODEL_CARD_FILE);
  await writeFileAtomic(file, JSON.stringify(card, null, 2) + '\n');
}

export async function readModelCard(dir: string): Promise<ModelCard> {
  const file = join(dir, MODEL_CARD_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new EmonasError(
      'not_found',
      `${dir} is not a trained model folder: ${MODEL_CARD_FILE} is missing there. Point --model at the folder emonas train wrote (its --out).`,
      { file },
    );
  }
  let card: ModelCard;
  try {
    card = JSON.parse(text) as ModelCard;
  } catch {
    throw new EmonasError('unreadable_file', `${file} is damaged (not valid JSON); train the model again.`, {
      file,
    });
  }
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
  return card;
}
