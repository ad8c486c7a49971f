// The viewer's and the review's plain logic (no Cornerstone, no Svelte), and the report's pictures and plots:
// which voxel axis a view cuts across, slice numbers from a camera, the error map and where it is worst,
// keyboard shortcuts, table sorting, the failure picture's physical aspect and the PNG encoder.
import { unzlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Mat3, Vec3 } from '../../../core/api/datasets.ts';
import {
  ERROR_CLASSES,
  errorMap,
  largestIndex,
  nonZeroPerSlice,
  type ReviewedCase,
} from '../../../core/api/review.ts';
import { failurePicture } from '../../../core/report/failure-picture.ts';
import { niceTicks, paretoPlot } from '../../../core/report/plots.ts';
import { encodePng } from '../../../core/report/png.ts';
import { columns, nextOrder, sortCases, WORST_FIRST } from '../../../renderer/src/review/review-model.ts';
import {
  asLabels,
  errorPane,
  keyAction,
  labelCounts,
  planeNormal,
  sliceAt,
  sliceAxis,
  sliceShift,
} from '../../../renderer/src/viewer/viewer-model.ts';

const IDENTITY: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** Voxel axes i -> world y, j -> world z, k -> world x (a sagittal acquisition). */
const SAGITTAL_ACQUISITION: Mat3 = [0, 0, 1, 1, 0, 0, 0, 1, 0];

describe('view planes and slices', () => {
  it('finds the voxel axis a plane cuts across, for world planes and the acquisition plane', () => {
    expect(sliceAxis(IDENTITY, planeNormal('axial', IDENTITY))).toBe(2);
    expect(sliceAxis(IDENTITY, planeNormal('sagittal', IDENTITY))).toBe(0);
    expect(sliceAxis(IDENTITY, planeNormal('coronal', IDENTITY))).toBe(1);
    expect(sliceAxis(SAGITTAL_ACQUISITION, planeNormal('sagittal', SAGITTAL_ACQUISITION))).toBe(2);
    expect(sliceAxis(SAGITTAL_ACQUISITION, planeNormal('axial', SAGITTAL_ACQUISITION))).toBe(1);
    expect(sliceAxis(SAGITTAL_ACQUISITION, planeNormal('acquisition', SAGITTAL_ACQUISITION))).toBe(2);
    // The camera may look along either direction of an axis.
    expect(sliceAxis(IDENTITY, [0, 0, -1])).toBe(2);
  });

  it('reads the slice a camera is on from the volume axes, and moves between slices exactly', () => {
    const volume = {
      origin: [10, -20, 5] as Vec3,
      direction: SAGITTAL_ACQUISITION,
      spacing: [1, 1, 10] as Vec3,
      shape: [30, 40, 8] as Vec3,
    };
    // k runs along world x from 10 mm in 10 mm steps.
    expect(sliceAt(volume, [40, 0, 0], 2)).toBe(3);
    expect(sliceAt(volume, [44.9, 0, 0], 2)).toBe(3);
    expect(sliceAt(volume, [-100, 0, 0], 2)).toBe(0);
    expect(sliceAt(volume, [1000, 0, 0], 2)).toBe(7);
    expect(sliceShift(volume, 2, 3, 5)).toEqual([20, 0, 0]);
    expect(sliceAt(volume, [40 + 20, 0, 0], 2)).toBe(5);
  });
});

describe('labels and errors', () => {
  it('counts voxels per label value and keeps label maps as bytes', () => {
    expect(labelCounts(new Uint8Array([0, 1, 1, 3, 0, 0]))).toEqual({ 0: 3, 1: 2, 3: 1 });
    const wide = new Int16Array([0, 2, 255]);
    expect(Array.from(asLabels(wide))).toEqual([0, 2, 255]);
    const bytes = new Uint8Array([1]);
    expect(asLabels(bytes)).toBe(bytes);
  });

  it('maps missed, extra and wrong-structure voxels to their classes', () => {
    const truth = new Uint8Array([0, 1, 1, 2, 0, 2]);
    const pred = new Uint8Array([0, 1, 0, 1, 2, 2]);
    const { falseNegative: fn, falsePositive: fp, wrongStructure: ws } = ERROR_CLASSES;
    expect(Array.from(errorMap(truth, pred))).toEqual([0, 0, fn.value, ws.value, fp.value, 0]);
  });

  it('finds the worst slice per axis, and opens where most of the ground truth is wrong', () => {
    const shape: Vec3 = [2, 2, 3];
    const truth = new Uint8Array(12);
    const pred = new Uint8Array(12);
    // k = 0: one true voxel, and the whole slice predicted as another structure (4 wrong, 1 on the truth).
    truth[0] = 2;
    pred.fill(1, 0, 4);
    // k = 2: two true voxels missed (2 wrong, both on the truth).
    truth[8] = 1;
    truth[9] = 1;
    const pane = errorPane(truth, pred, shape);
    expect(pane.worst[2]).toBe(0);
    expect(pane.start).toBe(2);
    expect(nonZeroPerSlice(pane.labels, shape, 2)).toEqual([4, 0, 2]);
    expect(nonZeroPerSlice(pane.labels, shape, 0)).toEqual([3, 3]);
    expect(largestIndex([0, 0])).toBe(-1);
    // Nothing true anywhere: the slice with the most wrong voxels of any kind.
    expect(errorPane(new Uint8Array(12), pred, shape).start).toBe(0);
    expect(errorPane(truth, truth, shape).start).toBe(-1);
  });
});

describe('keyboard shortcuts', () => {
  it('maps keys to actions and leaves modified keys to the browser', () => {
    expect(keyAction({ key: 'ArrowUp' })).toEqual({ kind: 'slice', delta: 1 });
    expect(keyAction({ key: 'PageDown' })).toEqual({ kind: 'slice', delta: -10 });
    expect(keyAction({ key: 'S' })).toEqual({ kind: 'orientation', orientation: 'sagittal' });
    expect(keyAction({ key: 'q' })).toEqual({ kind: 'orientation', orientation: 'acquisition' });
    expect(keyAction({ key: '+' })).toEqual({ kind: 'zoom', factor: 1.25 });
    expect(keyAction({ key: 'e' })).toEqual({ kind: 'largestError' });
    expect(keyAction({ key: '3' })).toEqual({ kind: 'toggleLabel', value: 3 });
    expect(keyAction({ key: '0' })).toBeNull();
    expect(keyAction({ key: 'r', ctrlKey: true })).toBeNull();
  });
});

function reviewed(id: string, meanDice: number, hd95: number): ReviewedCase {
  const s = {
    dice: meanDice,
    jaccard: 0,
    sensitivity: 0,
    precision: 0,
    volumeReference: 0,
    volumePrediction: 0,
    arvd: 0,
    hd: 0,
    hd95,
    assd: 0,
    nsd: 0,
    empty: 'none' as const,
  };
  return { id, meanDice, structures: { LV: s } };
}

describe('the per-case table', () => {
  const rows = [reviewed('b', 0.9, 2), reviewed('a', 0.5, 9), reviewed('c', 0.5, 4)];

  it('starts worst first and breaks ties by case id', () => {
    expect(sortCases(rows, WORST_FIRST).map((r) => r.id)).toEqual(['a', 'c', 'b']);
  });

  it('sorts a distance column largest (worst) first, and flips on a second click', () => {
    const hd95 = columns(['LV']).find((c) => c.key === 'LV:hd95')!;
    const first = nextOrder(WORST_FIRST, hd95);
    expect(first).toEqual({ key: 'LV:hd95', ascending: false });
    expect(sortCases(rows, first).map((r) => r.id)).toEqual(['a', 'c', 'b']);
    expect(sortCases(rows, nextOrder(first, hd95)).map((r) => r.id)).toEqual(['b', 'c', 'a']);
    expect(sortCases(rows, nextOrder(first, { key: 'id', higherIsBetter: false })).map((r) => r.id)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });
});

describe('the report pictures and plots', () => {
  it('draws a failure case at its physical aspect, on a slice through the ground truth', () => {
    const shape: Vec3 = [20, 10, 4];
    const n = 20 * 10 * 4;
    const image = {
      data: Float32Array.from({ length: n }, (_, i) => i % 7),
      shape,
      spacing: [1, 1, 10] as Vec3,
    };
    const truth = new Uint8Array(n);
    const pred = new Uint8Array(n);
    pred.fill(1, 0, 200); // k = 0: all wrong, no truth
    for (let i = 2; i < 6; i++) truth[600 + i] = 1; // k = 3: 4 missed voxels
    const picture = failurePicture(
      image,
      { ...image, data: truth },
      { ...image, data: pred },
      { panelWidth: 200 },
    );
    expect(picture.slice).toBe(3);
    expect(picture.wrongVoxels).toBe(4);
    // 20 x 10 mm in plane: a 200 px wide panel is 100 px high.
    expect(picture.height).toBe(100);
    expect(picture.width).toBe(3 * 200 + 2 * 4);
    const missed = ERROR_CLASSES.falseNegative.colour;
    const p = 4 * (5 * picture.width + 2 * 204 + 30);
    expect(Array.from(picture.rgba.subarray(p, p + 3))).toEqual(missed);
  });

  it('encodes RGBA as a PNG whose pixels decode back exactly', () => {
    const rgba = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
    const png = encodePng(3, 2, rgba);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([3, 2]);
    const idat = Buffer.from(png).indexOf('IDAT');
    const rows = unzlibSync(png.subarray(idat + 4, idat + 4 + view.getUint32(idat - 4)));
    expect(rows[0]).toBe(0);
    expect(Array.from(rows.subarray(1, 13))).toEqual(Array.from(rgba.subarray(0, 12)));
    expect(Array.from(rows.subarray(14, 26))).toEqual(Array.from(rgba.subarray(12, 24)));
    expect(() => encodePng(3, 3, rgba)).toThrow(RangeError);
  });

  it('ticks whole numbers when asked, and rings the chosen candidate in the Pareto plot', () => {
    expect(niceTicks(-0.2, 2.2, 5, true)).toEqual([0, 1, 2]);
    expect(niceTicks(0.58, 0.66)).toEqual([0.58, 0.6, 0.62, 0.64, 0.66]);
    const svg = paretoPlot([
      { id: 'a', params: 1e5, f1: 0.2, onFront: true, chosen: true },
      { id: 'b', params: 1e6, f1: 0.1, onFront: true, chosen: false },
      { id: 'c<x>', params: 1e6, f1: 0.3, onFront: false, chosen: false },
    ]);
    expect(svg.match(/class="candidate front"/g)).toHaveLength(2);
    expect(svg.match(/stroke="#d62728"/g)).toHaveLength(1);
    expect(svg).toContain('c&#60;x&#62;');
    expect(svg).not.toContain('c<x>');
  });
});
