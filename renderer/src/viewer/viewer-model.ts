// Runs in: the renderer. The viewer's plain logic, free of Cornerstone and of Svelte so it is tested in Node:
// what the panes show, which voxel axis a view plane cuts across, the slice a camera is on, label counts and
// the viewer's keyboard shortcuts.
import type { Mat3, Vec3, VolumeData } from '../../../core/api/datasets.ts';
import {
  ERROR_CLASSES,
  errorMap,
  failureSlice,
  largestIndex,
  nonZeroPerSlice,
} from '../../../core/api/review.ts';

/** 'acquisition' is the plane the volume was acquired in (its own k axis); the others are world planes. */
export const ORIENTATIONS = ['acquisition', 'axial', 'sagittal', 'coronal'] as const;
export type Orientation = (typeof ORIENTATIONS)[number];

export const ORIENTATION_NAMES: Record<Orientation, string> = {
  acquisition: 'As acquired',
  axial: 'Axial',
  sagittal: 'Sagittal',
  coronal: 'Coronal',
};

/** The LPS world normal of each world plane. */
const WORLD_NORMALS: Record<Exclude<Orientation, 'acquisition'>, Vec3> = {
  axial: [0, 0, 1],
  sagittal: [1, 0, 0],
  coronal: [0, 1, 0],
};

export type PaneKind = 'image' | 'truth' | 'prediction' | 'errors' | 'second';

export interface PaneContent {
  id: string;
  kind: PaneKind;
  title: string;
  /** The label map laid over the image, on the image's grid; null shows the image alone. */
  labels: Uint8Array | null;
}

export interface LabelStyle {
  /** Fill opacity, 0 to 1. */
  opacity: number;
  /** Outline only, no fill. */
  outline: boolean;
}

/** What each pane shows now, as Cornerstone reports it (read back after every change). */
export interface PaneSnapshot {
  id: string;
  /** 0-based index along the voxel axis the view plane cuts across. */
  slice: number;
  slices: number;
  /** The voxel axis (0 = i, 1 = j, 2 = k) the view plane cuts across. */
  axis: 0 | 1 | 2;
  focalPoint: Vec3;
  parallelScale: number;
  voi: [number, number];
  /** Canvas size in CSS pixels. */
  width: number;
  height: number;
}

/** Column c of a row-major direction matrix: the world direction of voxel axis c. */
export function axisDirection(direction: Mat3, axis: 0 | 1 | 2): Vec3 {
  return [direction[axis] as number, direction[3 + axis] as number, direction[6 + axis] as number];
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** The voxel axis most nearly along a view plane's normal: the one slices step through. */
export function sliceAxis(direction: Mat3, normal: Vec3): 0 | 1 | 2 {
  let best: 0 | 1 | 2 = 2;
  let most = -1;
  for (const axis of [0, 1, 2] as const) {
    const along = Math.abs(dot(axisDirection(direction, axis), normal));
    if (along > most + 1e-9) {
      most = along;
      best = axis;
    }
  }
  return best;
}

/** The normal of an orientation's plane for a volume (acquisition: the volume's own k axis). */
export function planeNormal(orientation: Orientation, direction: Mat3): Vec3 {
  return orientation === 'acquisition' ? axisDirection(direction, 2) : WORLD_NORMALS[orientation];
}

/** The voxel index along `axis` of a world point, rounded to the nearest slice and kept inside the volume. */
export function sliceAt(
  volume: Pick<VolumeData, 'origin' | 'direction' | 'spacing' | 'shape'>,
  point: Vec3,
  axis: 0 | 1 | 2,
): number {
  const d = axisDirection(volume.direction, axis);
  const offset: Vec3 = [
    point[0] - volume.origin[0],
    point[1] - volume.origin[1],
    point[2] - volume.origin[2],
  ];
  const index = Math.round(dot(offset, d) / volume.spacing[axis]);
  return Math.min(volume.shape[axis] - 1, Math.max(0, index));
}

/** The world shift that moves a view from slice `from` to slice `to` along `axis`. */
export function sliceShift(
  volume: Pick<VolumeData, 'direction' | 'spacing'>,
  axis: 0 | 1 | 2,
  from: number,
  to: number,
): Vec3 {
  const d = axisDirection(volume.direction, axis);
  const mm = (to - from) * volume.spacing[axis];
  return [d[0] * mm, d[1] * mm, d[2] * mm];
}

/** Voxels per label value (0 included). */
export function labelCounts(data: ArrayLike<number>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (let n = 0; n < data.length; n++) {
    const v = data[n] as number;
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

export interface ErrorPane {
  labels: Uint8Array;
  /** Per voxel axis, the slice with the most wrong voxels (-1 when there are none). */
  worst: [number, number, number];
  /** The slice (along k) to open at: failureSlice, where most of the ground truth is wrong. */
  start: number;
}

export function errorPane(truth: Uint8Array, prediction: Uint8Array, shape: Vec3): ErrorPane {
  const labels = errorMap(truth, prediction);
  const worst = ([0, 1, 2] as const).map((axis) => largestIndex(nonZeroPerSlice(labels, shape, axis))) as [
    number,
    number,
    number,
  ];
  return { labels, worst, start: failureSlice(truth, labels, shape) };
}

/** The legend of the error pane: value -> name. */
export const ERROR_LEGEND: Record<number, string> = Object.fromEntries(
  Object.values(ERROR_CLASSES).map((c) => [c.value, c.name]),
);

export type ViewerAction =
  | { kind: 'slice'; delta: number }
  | { kind: 'orientation'; orientation: Orientation }
  | { kind: 'zoom'; factor: number }
  | { kind: 'reset' }
  | { kind: 'largestError' }
  | { kind: 'toggleOutline' }
  | { kind: 'toggleLabel'; value: number };

/** Keyboard shortcuts, as the viewer's help lists them. */
export const SHORTCUTS: { keys: string; does: string }[] = [
  { keys: '↑ / ↓, PageUp / PageDown', does: 'previous / next slice (PageUp/PageDown: 10 slices)' },
  { keys: 'Q, A, S, C', does: 'as acquired, axial, sagittal, coronal' },
  { keys: '+ / −', does: 'zoom in / out' },
  { keys: 'R', does: 'reset zoom, pan and window' },
  { keys: 'E', does: 'jump to the slice with the largest error' },
  { keys: 'O', does: 'outline or fill' },
  { keys: '1 … 9', does: 'show or hide that label' },
];

/** The action a key press asks for, or null (typing in a form field is never a shortcut). */
export function keyAction(event: {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}): ViewerAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  switch (key) {
    case 'ArrowUp':
      return { kind: 'slice', delta: 1 };
    case 'ArrowDown':
      return { kind: 'slice', delta: -1 };
    case 'PageUp':
      return { kind: 'slice', delta: 10 };
    case 'PageDown':
      return { kind: 'slice', delta: -10 };
    case 'q':
      return { kind: 'orientation', orientation: 'acquisition' };
    case 'a':
      return { kind: 'orientation', orientation: 'axial' };
    case 's':
      return { kind: 'orientation', orientation: 'sagittal' };
    case 'c':
      return { kind: 'orientation', orientation: 'coronal' };
    case '+':
    case '=':
      return { kind: 'zoom', factor: 1.25 };
    case '-':
      return { kind: 'zoom', factor: 0.8 };
    case 'r':
      return { kind: 'reset' };
    case 'e':
      return { kind: 'largestError' };
    case 'o':
      return { kind: 'toggleOutline' };
    default:
      return /^[1-9]$/.test(key) ? { kind: 'toggleLabel', value: Number(key) } : null;
  }
}

/** A label map as the viewer's overlays take it: one byte per voxel (label values fit in 0..255). */
export function asLabels(data: VolumeData['data']): Uint8Array {
  return data instanceof Uint8Array ? data : Uint8Array.from(data, Number);
}
