// Runs in: a training worker. The per-epoch CSV log of a candidate (the reference's training.log, plus
// the validation Dice per label, the learning rate and the time), appended after every epoch so a killed
// worker leaves every finished epoch on disk.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EpochRecord } from './job.ts';

export const EPOCH_LOG_FILE = 'training-log.csv';

/** Label names become column names: anything but letters, digits and underscores turns into '_'. */
export function epochLogColumns(labelNames: string[]): string[] {
  return [
    'epoch',
    'loss',
    'val_loss',
    ...labelNames.map((n) => `val_dice_${n.replace(/[^A-Za-z0-9_]/g, '_')}`),
    'lr',
    'seconds',
  ];
}

export async function startEpochLog(dir: string, labelNames: string[]): Promise<void> {
  const columns = epochLogColumns(labelNames);
  await writeFile(join(dir, EPOCH_LOG_FILE), columns.join(',') + '\n');
}

export async function appendEpochLog(dir: string, labelNames: string[], r: EpochRecord): Promise<void> {
  const row = [
    r.epoch,
    r.trainLoss,
    r.valLoss,
    ...labelNames.map((n) => r.valDice[n] ?? ''),
    r.learningRate,
    Math.round(r.seconds * 1000) / 1000,
  ];
  await appendFile(join(dir, EPOCH_LOG_FILE), row.join(',') + '\n');
}
