// Runs in: the renderer. One axial slice of a case as RGBA pixels: the image in grey, windowed to its 1st-99th
// percentile, and the label map laid over it in each label's colour (the viewer's and the report's). A quick
// look at a case until the full Cornerstone viewer takes this place; voxel i runs left to right, j top to
// bottom, as stored. The same window opens the viewer.
import type { VolumeData } from '../../../core/api/datasets.ts';
import { labelColour } from '../../../core/api/review.ts';

/** How strongly a label's colour covers the image. */
const OVERLAY_ALPHA = 0.45;

/** The 1st and 99th percentiles of the voxel values, from an even sample of at most 65536 voxels. */
export function intensityWindow(data: VolumeData['data']): [number, number] {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += step) sample.push(Number(data[i]));
  sample.sort((a, b) => a - b);
  if (sample.length === 0) return [0, 1];
  const at = (q: number) =>
    sample[Math.min(sample.length - 1, Math.floor(q * (sample.length - 1)))] as number;
  const lo = at(0.01);
  const hi = at(0.99);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

export function renderSlice(
  image: VolumeData,
  label: VolumeData | undefined,
  k: number,
  window: [number, number],
): { width: number; height: number; pixels: Uint8ClampedArray<ArrayBuffer> } {
  const [nx, ny, nz] = image.shape;
  const z = Math.min(nz - 1, Math.max(0, Math.round(k)));
  const pixels = new Uint8ClampedArray(nx * ny * 4);
  const [lo, hi] = window;
  const scale = 255 / (hi - lo);
  const offset = nx * ny * z;
  for (let p = 0; p < nx * ny; p++) {
    const grey = (Number(image.data[offset + p]) - lo) * scale;
    let r = grey;
    let g = grey;
    let b = grey;
    const cls = label ? Number(label.data[offset + p]) : 0;
    if (cls > 0) {
      const [cr, cg, cb] = labelColour(cls);
      r = r * (1 - OVERLAY_ALPHA) + cr * OVERLAY_ALPHA;
      g = g * (1 - OVERLAY_ALPHA) + cg * OVERLAY_ALPHA;
      b = b * (1 - OVERLAY_ALPHA) + cb * OVERLAY_ALPHA;
    }
    pixels[4 * p] = r;
    pixels[4 * p + 1] = g;
    pixels[4 * p + 2] = b;
    pixels[4 * p + 3] = 255;
  }
  return { width: nx, height: ny, pixels };
}
