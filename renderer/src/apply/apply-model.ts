// Runs in: the renderer (and tested in Node). Plain logic of applying a model to new scans: the models a run
// offers, the paths typed one per line, the rows of the results table with each structure's volume, and the
// slice a scan's review opens at.
import type { AppliedScan, AppliedScans, FinalModel } from '../../../core/api/finish.ts';
import type { FrontCandidate } from '../../../core/api/runs.ts';

export interface ModelChoice {
  /** 'final' or a candidate id, as scans.apply takes it. */
  value: string;
  label: string;
}

/** The run's final model first (when it has one), then its front's candidates, most accurate first. */
export function modelChoices(final: FinalModel | null, front: FrontCandidate[]): ModelChoice[] {
  const choices: ModelChoice[] = [];
  const model = final?.model;
  if (model && model.status === 'completed') {
    const dice = model.meanValDice === null ? '' : `, validation Dice ${model.meanValDice.toFixed(3)}`;
    choices.push({
      value: 'final',
      label: `Final model (${model.candidate} trained ${model.epochsRun} epochs${dice})`,
    });
  }
  for (const c of [...front].sort((a, b) => a.f1 - b.f1)) {
    choices.push({
      value: c.id,
      label: `Candidate ${c.id} (${c.params.toLocaleString('en')} parameters, f1 ${c.f1.toFixed(3)})`,
    });
  }
  return choices;
}

/** Files or folders typed or chosen, one per line; blank lines and surrounding spaces dropped. */
export function splitPaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

export interface ScanRow {
  /** Unique per row: the input, and the frame of a 4D series. */
  key: string;
  scan: AppliedScan;
  /** The input's file name, with the frame of a 4D series. */
  name: string;
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

export function scanKey(scan: AppliedScan): string {
  return scan.frame === undefined ? scan.input : `${scan.input}#${scan.frame}`;
}

/** The predicted scans by file name, a 4D series' frames in order. */
export function scanRows(applied: AppliedScans): ScanRow[] {
  return applied.scans
    .map((scan) => ({
      key: scanKey(scan),
      scan,
      name: scan.frame === undefined ? fileName(scan.input) : `${fileName(scan.input)}, frame ${scan.frame}`,
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** The structures measured, in the order the model names them. */
export function structureNames(applied: AppliedScans): string[] {
  const names: string[] = [];
  for (const scan of applied.scans) {
    for (const name of Object.keys(scan.volumesMl)) if (!names.includes(name)) names.push(name);
  }
  return names;
}

export function formatMl(ml: number | undefined): string {
  if (ml === undefined) return '–';
  return ml >= 10 ? ml.toFixed(1) : ml.toFixed(2);
}

/** The slice along the third voxel axis with the most predicted voxels; null when nothing was predicted. */
export function densestSlice(labels: ArrayLike<number>, shape: readonly number[]): number | null {
  const [nx = 0, ny = 0, nz = 0] = shape;
  const plane = nx * ny;
  let best: number | null = null;
  let most = 0;
  for (let k = 0; k < nz; k++) {
    let count = 0;
    for (let p = k * plane; p < (k + 1) * plane; p++) if ((labels[p] as number) !== 0) count++;
    if (count > most) {
      most = count;
      best = k;
    }
  }
  return best;
}
