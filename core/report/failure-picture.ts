// Runs in: any process. A failure case as one picture for the HTML report: the slice where the prediction
// gets most of the ground truth wrong (failureSlice, the slice the viewer opens at too), three times side by side (ground truth | prediction | errors), in the colours of the viewer and
// at the slice's physical aspect, so a 10 mm slice thickness never looks squashed.
import {
  ERROR_CLASSES,
  errorMap,
  failureSlice,
  labelColour,
  nonZeroPerSlice,
  type Rgb,
} from '../api/review.ts';

type Vec3 = [number, number, number];

export interface PictureVolume {
  data: ArrayLike<number>;
  shape: Vec3;
  spacing: Vec3;
}

export interface FailurePicture {
  /** 0-based k of the slice shown (failureSlice). */
  slice: number;
  /** Wrong voxels in that slice. */
  wrongVoxels: number;
  width: number;
  height: number;
  rgba: Uint8Array;
  /** Captions of the panels, left to right. */
  panels: string[];
}

const FILL_ALPHA = 0.45;
const GAP = 4;
const ERROR_COLOURS = new Map<number, Rgb>(Object.values(ERROR_CLASSES).map((c) => [c.value, c.colour]));

function windowOf(data: ArrayLike<number>): [number, number] {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const sample: number[] = [];
  for (let n = 0; n < data.length; n += step) sample.push(data[n] as number);
  sample.sort((a, b) => a - b);
  const at = (q: number) => sample[Math.floor(q * (sample.length - 1))] ?? 0;
  const lo = at(0.01);
  const hi = at(0.99);
  return [lo, hi > lo ? hi : lo + 1];
}

/** In-plane voxels of a label slice that touch another value (4-neighbourhood): the outline. */
function outline(labels: ArrayLike<number>, nx: number, ny: number, offset: number): Uint8Array {
  const edge = new Uint8Array(nx * ny);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      const v = labels[offset + i + nx * j] as number;
      if (v === 0) continue;
      const differs = (di: number, dj: number) => {
        const a = i + di;
        const b = j + dj;
        return a < 0 || b < 0 || a >= nx || b >= ny || labels[offset + a + nx * b] !== v;
      };
      if (differs(-1, 0) || differs(1, 0) || differs(0, -1) || differs(0, 1)) edge[i + nx * j] = 1;
    }
  return edge;
}

export function failurePicture(
  image: PictureVolume,
  truth: PictureVolume,
  prediction: PictureVolume,
  options: { panelWidth?: number } = {},
): FailurePicture {
  const [nx, ny] = image.shape;
  const [sx, sy] = image.spacing;
  const errors = errorMap(truth.data, prediction.data);
  const perSlice = nonZeroPerSlice(errors, image.shape, 2);
  const slice = Math.max(0, failureSlice(truth.data, errors, image.shape));
  const offset = slice * nx * ny;
  const panelWidth = options.panelWidth ?? 240;
  const mmPerPixel = (nx * sx) / panelWidth;
  const panelHeight = Math.max(1, Math.round((ny * sy) / mmPerPixel));
  const width = panelWidth * 3 + GAP * 2;
  const rgba = new Uint8Array(width * panelHeight * 4);
  const [lo, hi] = windowOf(image.data);
  const layers: { labels: ArrayLike<number>; colour: (v: number) => Rgb }[] = [
    { labels: truth.data, colour: labelColour },
    { labels: prediction.data, colour: labelColour },
    { labels: errors, colour: (v) => ERROR_COLOURS.get(v) ?? [255, 255, 255] },
  ];
  layers.forEach(({ labels, colour }, panel) => {
    const edge = outline(labels, nx, ny, offset);
    const x0 = panel * (panelWidth + GAP);
    for (let y = 0; y < panelHeight; y++) {
      const j = Math.min(ny - 1, Math.floor(((y + 0.5) * mmPerPixel) / sy));
      for (let x = 0; x < panelWidth; x++) {
        const i = Math.min(nx - 1, Math.floor(((x + 0.5) * mmPerPixel) / sx));
        const n = offset + i + nx * j;
        const grey = Math.max(0, Math.min(255, (255 * ((image.data[n] as number) - lo)) / (hi - lo)));
        let rgb: Rgb = [grey, grey, grey];
        const v = labels[n] as number;
        if (v !== 0) {
          const c = colour(v);
          const a = edge[i + nx * j] ? 1 : FILL_ALPHA;
          rgb = [rgb[0] * (1 - a) + c[0] * a, rgb[1] * (1 - a) + c[1] * a, rgb[2] * (1 - a) + c[2] * a];
        }
        const p = 4 * (y * width + x0 + x);
        rgba[p] = rgb[0];
        rgba[p + 1] = rgb[1];
        rgba[p + 2] = rgb[2];
        rgba[p + 3] = 255;
      }
    }
  });
  for (const x0 of [panelWidth, 2 * panelWidth + GAP]) {
    for (let y = 0; y < panelHeight; y++)
      for (let x = x0; x < x0 + GAP; x++) rgba.set([255, 255, 255, 255], 4 * (y * width + x));
  }
  return {
    slice,
    wrongVoxels: perSlice[slice] ?? 0,
    width,
    height: panelHeight,
    rgba,
    panels: ['ground truth', 'prediction', 'errors'],
  };
}
