// Runs in: the renderer. The state of one side-by-side viewer: orientation, window, label style and
// visibility as the user set them, and what Cornerstone reports back about each pane (slice, zoom, window),
// so the panes' agreement is visible on the page. It drives the Cornerstone facade through ViewerHandle and
// outlives it: a viewer rebuilt with other panes opens where the last one was.
import type { VolumeData } from '../../../core/api/datasets.ts';
import { intensityWindow } from '../state/slice-image.ts';
import type { ViewerHandle } from './cornerstone-viewer.ts';
import type { LabelStyle, Orientation, PaneSnapshot, ViewerAction } from './viewer-model.ts';

export class ViewerState {
  orientation = $state<Orientation>('acquisition');
  style = $state.raw<LabelStyle>({ opacity: 0.5, outline: false });
  /** Label values not drawn. */
  hidden = $state.raw<number[]>([]);
  voi = $state.raw<[number, number]>([0, 1]);
  panes = $state.raw<PaneSnapshot[]>([]);
  /** Voxels per label value in each pane's overlay, as Cornerstone holds it. */
  counts = $state.raw<Record<string, Record<number, number>>>({});
  loading = $state(true);
  error = $state<string | null>(null);
  readonly defaultVoi: [number, number];
  private handle: ViewerHandle | null = null;

  constructor(
    readonly image: VolumeData,
    /** Per voxel axis, the slice with the most wrong voxels (from the error map), when there is one. */
    readonly worstSlices: [number, number, number] | null = null,
    /** The slice (along k) a new viewer opens at, as acquired; the middle one otherwise. */
    private readonly openAt: number | null = null,
  ) {
    this.defaultVoi = intensityWindow(image.data);
    this.voi = this.defaultVoi;
  }

  /** Where a new viewer opens, as acquired. */
  get startSlice(): number | undefined {
    return this.openAt !== null && this.openAt >= 0 ? this.openAt : undefined;
  }

  /** The slice shown (all panes agree when in sync), or the middle one before the first report. */
  get slice(): number {
    return this.panes[0]?.slice ?? 0;
  }

  get slices(): number {
    return this.panes[0]?.slices ?? 1;
  }

  /** True when every pane shows the same slice, zoom and window: what synchronisation promises. */
  get inSync(): boolean {
    const [a, ...rest] = this.panes;
    if (!a) return true;
    return rest.every(
      (b) =>
        b.slice === a.slice &&
        Math.abs(b.parallelScale - a.parallelScale) < 1e-6 * Math.max(1, a.parallelScale) &&
        b.voi[0] === a.voi[0] &&
        b.voi[1] === a.voi[1],
    );
  }

  attach(handle: ViewerHandle, paneIds: string[]): void {
    this.handle = handle;
    handle.onChange(() => this.refresh());
    const counts: Record<string, Record<number, number>> = {};
    for (const id of paneIds) counts[id] = handle.labelCounts(id);
    this.counts = counts;
    this.loading = false;
    this.refresh();
  }

  detach(): void {
    this.handle = null;
    this.loading = true;
  }

  /** The panes' box changed size: Cornerstone redraws to fit, keeping the camera. */
  resize(): void {
    this.handle?.resize();
    this.refresh();
  }

  refresh(): void {
    if (!this.handle) return;
    this.panes = this.handle.snapshot();
    const voi = this.panes[0]?.voi;
    if (voi) this.voi = voi;
  }

  setOrientation(orientation: Orientation): void {
    this.orientation = orientation;
    this.handle?.setOrientation(orientation);
  }

  goToSlice(index: number): void {
    this.handle?.goToSlice(index);
  }

  setVoi(voi: [number, number]): void {
    if (!(voi[1] > voi[0])) return;
    this.voi = voi;
    this.handle?.setVoi(voi);
  }

  setStyle(style: Partial<LabelStyle>): void {
    this.style = { ...this.style, ...style };
    this.handle?.setStyle(this.style);
  }

  toggleLabel(value: number): void {
    this.hidden = this.hidden.includes(value)
      ? this.hidden.filter((v) => v !== value)
      : [...this.hidden, value];
    this.handle?.setHidden(this.hidden);
  }

  /** Jumps to the slice with the most wrong voxels along the axis the panes now cut across. */
  goToLargestError(): void {
    const axis = this.panes[0]?.axis;
    const slice = axis === undefined ? -1 : (this.worstSlices?.[axis] ?? -1);
    if (slice >= 0) this.goToSlice(slice);
  }

  act(action: ViewerAction): void {
    switch (action.kind) {
      case 'slice':
        this.handle?.scrollBy(action.delta);
        break;
      case 'orientation':
        this.setOrientation(action.orientation);
        break;
      case 'zoom':
        this.handle?.zoomBy(action.factor);
        break;
      case 'reset':
        this.voi = this.defaultVoi;
        this.handle?.reset(this.defaultVoi);
        break;
      case 'largestError':
        this.goToLargestError();
        break;
      case 'toggleOutline':
        this.setStyle({ outline: !this.style.outline });
        break;
      case 'toggleLabel':
        this.toggleLabel(action.value);
        break;
    }
  }
}
