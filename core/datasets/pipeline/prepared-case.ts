// Runs in: any process. A case as training sees it: the preprocessed image and its label map of class
// indices (0 = background, then the plan's labels in order), both in network axis order, plus where each
// foreground class lies so oversampling can aim at it without scanning the volume every time.
import type { Grid } from './grid.ts';

export interface PreparedCase {
  id: string;
  image: Grid;
  label: Grid<Uint8Array>;
  /** foreground[k] holds the flat grid indices of class k's voxels; foreground[0] is empty. */
  foreground: Int32Array[];
}

export function indexForeground(label: Uint8Array, classes: number): Int32Array[] {
  const counts = new Int32Array(classes);
  for (let i = 0; i < label.length; i++) {
    const k = label[i] as number;
    if (k > 0 && k < classes) counts[k] = (counts[k] as number) + 1;
  }
  const out = Array.from({ length: classes }, (_, k) => new Int32Array(k === 0 ? 0 : (counts[k] as number)));
  const fill = new Int32Array(classes);
  for (let i = 0; i < label.length; i++) {
    const k = label[i] as number;
    if (k > 0 && k < classes) {
      (out[k] as Int32Array)[fill[k] as number] = i;
      fill[k] = (fill[k] as number) + 1;
    }
  }
  return out;
}
