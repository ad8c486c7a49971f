// Runs in: a training worker (no tfjs). Validation Dice on a whole volume from class probabilities:
// the soft Dice that defines the validation loss (same formula as the training loss, per case) and the
// hard Dice of the argmax label map a user will see. A class absent from both the reference and the
// prediction scores 1 (nothing to find, nothing found).
import { DICE_SMOOTH } from './loss.ts';

export interface CaseDice {
  /** Per foreground class (index 0 = class 1). */
  soft: number[];
  hard: number[];
}

/** probabilities: channel-major over all classes (background first); label: class indices; same voxels. */
export function caseDice(probabilities: Float32Array, label: Uint8Array, classes: number): CaseDice {
  const n = label.length;
  const intersection = new Float64Array(classes);
  const sumP2 = new Float64Array(classes);
  const sumY = new Float64Array(classes);
  const hardBoth = new Float64Array(classes);
  const hardPred = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const truth = label[i] as number;
    let best = 0;
    let bestP = -Infinity;
    for (let k = 0; k < classes; k++) {
      const p = probabilities[k * n + i] as number;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
      sumP2[k] = (sumP2[k] as number) + p * p;
      if (k === truth) intersection[k] = (intersection[k] as number) + p;
    }
    sumY[truth] = (sumY[truth] as number) + 1;
    hardPred[best] = (hardPred[best] as number) + 1;
    if (best === truth) hardBoth[best] = (hardBoth[best] as number) + 1;
  }
  const soft: number[] = [];
  const hard: number[] = [];
  for (let k = 1; k < classes; k++) {
    const y = sumY[k] as number;
    soft.push((2 * (intersection[k] as number) + DICE_SMOOTH) / (y + (sumP2[k] as number) + DICE_SMOOTH));
    const denominator = y + (hardPred[k] as number);
    hard.push(denominator === 0 ? 1 : (2 * (hardBoth[k] as number)) / denominator);
  }
  return { soft, hard };
}
