// Runs in: the renderer, loaded on demand (dynamic import) when a viewer opens, so Cornerstone never slows the
// app's start. The one file that talks to Cornerstone3D: it builds the image volume and one labelmap per
// pane from the typed arrays the engine sent (every file format takes this one path), lays the panes out
// as orthographic volume viewports, and keeps slice, pan, zoom and window/level in step across them.
// Cornerstone's pitfalls are handled here once: colon-free ids, the camera-position synchroniser (the
// image-slice one does not follow volume viewports), setProperties({voiRange}) for the window, and slice
// numbers computed from the camera against the volume's own axes rather than getSliceIndex().
import {
  Enums,
  RenderingEngine,
  cache,
  init as initCore,
  setVolumesForViewports,
  volumeLoader,
  type Types,
} from '@cornerstonejs/core';
import {
  Enums as ToolEnums,
  PanTool,
  StackScrollTool,
  SynchronizerManager,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  init as initTools,
  segmentation,
  synchronizers,
} from '@cornerstonejs/tools';
import type { Vec3, VolumeData } from '../../../core/api/datasets.ts';
import { ERROR_CLASSES, labelColour } from '../../../core/api/review.ts';
import {
  labelCounts,
  planeNormal,
  sliceAt,
  sliceAxis,
  sliceShift,
  type LabelStyle,
  type Orientation,
  type PaneContent,
  type PaneSnapshot,
} from './viewer-model.ts';

export interface ViewerPane {
  content: PaneContent;
  element: HTMLDivElement;
}

export interface ViewerOptions {
  image: VolumeData;
  panes: ViewerPane[];
  orientation: Orientation;
  style: LabelStyle;
  /** Label values not drawn. */
  hidden: number[];
  voi: [number, number];
  /** Slice to open at (along the orientation's axis); the middle one otherwise. */
  slice?: number;
}

export interface ViewerHandle {
  snapshot(): PaneSnapshot[];
  /** Called (at most once a frame) after any pane's camera or window changed. */
  onChange(listener: () => void): void;
  setOrientation(orientation: Orientation): void;
  scrollBy(delta: number): void;
  goToSlice(index: number): void;
  zoomBy(factor: number): void;
  reset(voi: [number, number]): void;
  setVoi(voi: [number, number]): void;
  setStyle(style: LabelStyle): void;
  setHidden(hidden: number[]): void;
  /** Voxels per label value in the labelmap Cornerstone holds for a pane (what it draws from). */
  labelCounts(paneId: string): Record<number, number>;
  resize(): void;
  destroy(): void;
}

const ORIENTATION_AXES: Record<Orientation, Enums.OrientationAxis> = {
  acquisition: Enums.OrientationAxis.ACQUISITION,
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};

let shared: RenderingEngine | undefined;
let serial = 0;

/**
 * One rendering engine with one WebGL context for the page's lifetime: viewers come and go (another case,
 * another third pane) and only their viewports are enabled and disabled. An engine per viewer, each with
 * Cornerstone's default pool of 7 contexts, soon passes Chromium's limit of 16 and loses the oldest.
 */
function sharedEngine(): RenderingEngine {
  if (shared) return shared;
  initCore({ rendering: { webGlContextCount: 1 }, debug: {} });
  initTools();
  for (const tool of [StackScrollTool, WindowLevelTool, PanTool, ZoomTool]) addTool(tool);
  shared = new RenderingEngine('emonasengine');
  return shared;
}

/** Label panes: each value in its label colour; the error pane: each error class in its own. */
function colourTable(kind: PaneContent['kind']): Types.ColorLUT {
  const lut: Types.ColorLUT = [[0, 0, 0, 0]];
  if (kind === 'errors') {
    for (const c of Object.values(ERROR_CLASSES)) lut[c.value] = [...c.colour, 255];
  } else {
    for (let v = 1; v < 256; v++) lut[v] = [...labelColour(v), 255];
  }
  return lut;
}

/** One declared segment per label value present (Cornerstone's segment index is the label value). */
function segmentsOf(labels: Uint8Array): Record<number, { label: string }> {
  const present = new Uint8Array(256);
  for (const v of labels) present[v] = 1;
  const segments: Record<number, { label: string }> = {};
  for (let v = 1; v < 256; v++) if (present[v]) segments[v] = { label: `label ${v}` };
  return segments;
}

function metadata(image: VolumeData, seriesId: string) {
  return {
    BitsAllocated: 32,
    BitsStored: 32,
    SamplesPerPixel: 1,
    HighBit: 31,
    PhotometricInterpretation: 'MONOCHROME2',
    PixelRepresentation: 1,
    Modality: 'MR',
    SeriesInstanceUID: seriesId,
    ImageOrientationPatient: columnMajor(image.direction).slice(0, 6),
    PixelSpacing: [image.spacing[1], image.spacing[0]],
    FrameOfReferenceUID: seriesId,
    Columns: image.shape[0],
    Rows: image.shape[1],
    voiLut: [],
    VOILUTFunction: 'LINEAR',
  };
}

/** Cornerstone's direction is column-major (its first three values are the i axis); ours is row-major. */
function columnMajor(d: VolumeData['direction']): Types.Mat3 {
  return [d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]] as Types.Mat3;
}

export async function createViewer(options: ViewerOptions): Promise<ViewerHandle> {
  const engine = sharedEngine();
  const id = `emonas${++serial}`;
  const { image } = options;
  const imageId = `${id}image`;
  const engineId = engine.id;
  const toolGroupId = `${id}tools`;
  const cameraSyncId = `${id}camerasync`;
  const voiSyncId = `${id}voisync`;
  const volume = volumeLoader.createLocalVolume(imageId, {
    metadata: metadata(image, id) as unknown as Types.Metadata,
    dimensions: image.shape,
    spacing: image.spacing,
    origin: image.origin,
    direction: columnMajor(image.direction),
    scalarData: image.data instanceof Float32Array ? image.data : Float32Array.from(image.data, Number),
  });
  const viewportIds = options.panes.map((p) => `${id}${p.content.id}`);
  options.panes.forEach((pane, n) =>
    engine.enableElement({
      viewportId: viewportIds[n] as string,
      type: Enums.ViewportType.ORTHOGRAPHIC,
      element: pane.element,
      defaultOptions: {
        orientation: ORIENTATION_AXES[options.orientation],
        background: [0, 0, 0] as Types.Point3,
      },
    }),
  );
  await setVolumesForViewports(engine, [{ volumeId: volume.volumeId }], viewportIds);

  const segmentationIds = new Map<string, string>();
  /** The label values each pane's labelmap holds (its declared segments). */
  const paneSegments = new Map<string, number[]>();
  for (const [n, pane] of options.panes.entries()) {
    const labels = pane.content.labels;
    if (!labels) continue;
    const segId = `${id}seg${n}`;
    const segments = segmentsOf(labels);
    paneSegments.set(pane.content.id, Object.keys(segments).map(Number));
    const segVolume = volumeLoader.createAndCacheDerivedLabelmapVolume(volume.volumeId, { volumeId: segId });
    if (!segVolume.voxelManager?.setCompleteScalarDataArray) {
      throw new Error(
        'Cornerstone made a labelmap volume without voxel access; the viewer cannot draw labels.',
      );
    }
    segVolume.voxelManager.setCompleteScalarDataArray(labels);
    segmentation.addSegmentations([
      {
        segmentationId: segId,
        representation: { type: ToolEnums.SegmentationRepresentations.Labelmap, data: { volumeId: segId } },
        // Without its segments declared, a labelmap has only segment 1, and hiding any other does nothing.
        config: { segments },
      },
    ]);
    segmentation.addSegmentationRepresentations(viewportIds[n] as string, [
      {
        segmentationId: segId,
        type: ToolEnums.SegmentationRepresentations.Labelmap,
        config: { colorLUTOrIndex: colourTable(pane.content.kind) },
      },
    ]);
    segmentationIds.set(pane.content.id, segId);
  }

  const tools = ToolGroupManager.createToolGroup(toolGroupId);
  if (!tools) throw new Error(`Cornerstone could not create the tool group ${toolGroupId}.`);
  for (const tool of [StackScrollTool, WindowLevelTool, PanTool, ZoomTool]) tools.addTool(tool.toolName);
  const { MouseBindings, KeyboardBindings } = ToolEnums;
  tools.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  tools.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  tools.setToolActive(PanTool.toolName, {
    bindings: [
      { mouseButton: MouseBindings.Auxiliary },
      { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift },
    ],
  });
  tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  const cameraSync = synchronizers.createCameraPositionSynchronizer(cameraSyncId);
  const voiSync = synchronizers.createVOISynchronizer(voiSyncId, {
    syncInvertState: false,
    syncColormap: false,
  });
  for (const viewportId of viewportIds) {
    tools.addViewport(viewportId, engineId);
    cameraSync.add({ renderingEngineId: engineId, viewportId });
    voiSync.add({ renderingEngineId: engineId, viewportId });
  }

  const viewports = () => viewportIds.map((v) => engine.getViewport(v) as Types.IVolumeViewport);
  const first = () => viewports()[0] as Types.IVolumeViewport;

  const snapshot = (): PaneSnapshot[] =>
    viewports().map((vp, n) => {
      const camera = vp.getCamera();
      const normal = (camera.viewPlaneNormal ?? [0, 0, 1]) as Vec3;
      const axis = sliceAxis(image.direction, normal);
      const focalPoint = [...(camera.focalPoint ?? [0, 0, 0])] as Vec3;
      const range = vp.getProperties()?.voiRange;
      const pane = options.panes[n] as ViewerPane;
      return {
        id: pane.content.id,
        axis,
        slice: sliceAt(image, focalPoint, axis),
        slices: image.shape[axis],
        focalPoint,
        parallelScale: camera.parallelScale ?? 0,
        voi: [range?.lower ?? 0, range?.upper ?? 0],
        width: pane.element.clientWidth,
        height: pane.element.clientHeight,
      };
    });

  const goToSlice = (index: number): void => {
    const vp = first();
    const camera = vp.getCamera();
    const axis = sliceAxis(image.direction, (camera.viewPlaneNormal ?? [0, 0, 1]) as Vec3);
    const focalPoint = (camera.focalPoint ?? [0, 0, 0]) as Vec3;
    const position = (camera.position ?? [0, 0, 0]) as Vec3;
    const target = Math.min(image.shape[axis] - 1, Math.max(0, Math.round(index)));
    const shift = sliceShift(image, axis, sliceAt(image, focalPoint, axis), target);
    vp.setCamera({
      focalPoint: focalPoint.map((v, a) => v + (shift[a] as number)) as Types.Point3,
      position: position.map((v, a) => v + (shift[a] as number)) as Types.Point3,
    });
    vp.render();
  };

  const setVoi = (voi: [number, number]): void => {
    for (const vp of viewports()) vp.setProperties({ voiRange: { lower: voi[0], upper: voi[1] } });
    engine.render();
  };

  const setStyle = (style: LabelStyle): void => {
    for (const [n, pane] of options.panes.entries()) {
      const segmentationId = segmentationIds.get(pane.content.id);
      if (!segmentationId) continue;
      segmentation.config.style.setStyle(
        {
          type: ToolEnums.SegmentationRepresentations.Labelmap,
          viewportId: viewportIds[n] as string,
          segmentationId,
        },
        {
          renderFill: !style.outline,
          renderFillInactive: !style.outline,
          fillAlpha: style.opacity,
          fillAlphaInactive: style.opacity,
          renderOutline: true,
          renderOutlineInactive: true,
          outlineWidth: 2,
          outlineWidthInactive: 2,
          outlineOpacity: style.outline ? 1 : Math.min(1, style.opacity + 0.35),
          outlineOpacityInactive: style.outline ? 1 : Math.min(1, style.opacity + 0.35),
        },
      );
    }
    engine.render();
  };

  const setHidden = (hidden: number[]): void => {
    for (const [n, pane] of options.panes.entries()) {
      const segmentationId = segmentationIds.get(pane.content.id);
      if (!segmentationId || pane.content.kind === 'errors') continue;
      for (const v of paneSegments.get(pane.content.id) ?? []) {
        segmentation.config.visibility.setSegmentIndexVisibility(
          viewportIds[n] as string,
          { segmentationId, type: ToolEnums.SegmentationRepresentations.Labelmap },
          v,
          !hidden.includes(v),
        );
      }
    }
    engine.render();
  };

  const listeners: (() => void)[] = [];
  let pending = false;
  const changed = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      for (const l of listeners) l();
    });
  };
  for (const pane of options.panes) {
    pane.element.addEventListener(Enums.Events.CAMERA_MODIFIED, changed);
    pane.element.addEventListener(Enums.Events.VOI_MODIFIED, changed);
  }

  setVoi(options.voi);
  setStyle(options.style);
  setHidden(options.hidden);
  if (options.slice !== undefined) goToSlice(options.slice);
  engine.render();
  // The image texture is uploaded during the first frame; a pane drawn in that frame stays black until the
  // next render, so draw once more after it.
  await new Promise((resolve) => requestAnimationFrame(resolve));
  engine.render();

  return {
    snapshot,
    onChange: (listener) => listeners.push(listener),
    setOrientation(orientation) {
      const slicesBefore = snapshot()[0];
      for (const vp of viewports()) vp.setOrientation(ORIENTATION_AXES[orientation]);
      if (
        slicesBefore &&
        sliceAxis(image.direction, planeNormal(orientation, image.direction)) === slicesBefore.axis
      ) {
        goToSlice(slicesBefore.slice);
      }
      engine.render();
      changed();
    },
    scrollBy(delta) {
      const now = snapshot()[0];
      if (now) goToSlice(now.slice + delta);
    },
    goToSlice,
    zoomBy(factor) {
      const vp = first();
      vp.setZoom(vp.getZoom() * factor);
      vp.render();
    },
    reset(voi) {
      first().resetCamera();
      setVoi(voi);
      engine.render();
    },
    setVoi,
    setStyle,
    setHidden,
    labelCounts(paneId) {
      const segId = segmentationIds.get(paneId);
      const segVolume = segId ? cache.getVolume(segId) : undefined;
      const data = segVolume?.voxelManager?.getCompleteScalarDataArray?.();
      return data ? labelCounts(data as ArrayLike<number>) : {};
    },
    resize() {
      engine.resize(true, true);
    },
    destroy() {
      for (const pane of options.panes) {
        pane.element.removeEventListener(Enums.Events.CAMERA_MODIFIED, changed);
        pane.element.removeEventListener(Enums.Events.VOI_MODIFIED, changed);
      }
      SynchronizerManager.destroySynchronizer(cameraSyncId);
      SynchronizerManager.destroySynchronizer(voiSyncId);
      ToolGroupManager.destroyToolGroup(toolGroupId);
      for (const segId of segmentationIds.values()) segmentation.removeSegmentation(segId);
      for (const viewportId of viewportIds) engine.disableElement(viewportId);
      for (const segId of segmentationIds.values()) cache.removeVolumeLoadObject(segId);
      cache.removeVolumeLoadObject(imageId);
    },
  };
}
