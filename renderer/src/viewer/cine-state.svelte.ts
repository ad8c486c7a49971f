// Runs in: the renderer. An ACDC patient's cine at one slice: every frame of that slice as the engine sent
// it, the frame shown, playback, and the ED and ES frames to mark; the slice follows the viewer's when the
// viewer cuts across the same axis.
import type { Result } from '../../../core/api/envelope.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { CineSlice } from '../../../core/api/review.ts';

export type CineLoader = (slice: number) => Promise<Result<CineSlice>>;

/** Frames shown per second while playing: a cardiac cycle of 20-30 frames takes about a second. */
export const CINE_FPS = 20;

export class CineState {
  cine = $state.raw<CineSlice | null>(null);
  /** 0-based frame shown. */
  frame = $state(0);
  playing = $state(false);
  loading = $state(false);
  error = $state.raw<ErrorData | null>(null);
  private requested = -1;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly load: CineLoader) {}

  /** Loads another slice (a no-op when it is the one shown or asked for). */
  async show(slice: number): Promise<void> {
    if (slice === this.requested) return;
    this.requested = slice;
    this.loading = true;
    const result = await this.load(slice);
    if (slice !== this.requested) return;
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    const first = this.cine === null;
    this.cine = result.value;
    if (first) this.frame = Math.max(0, result.value.ed - 1);
  }

  goTo(frame: number): void {
    const frames = this.cine?.frames ?? 1;
    this.frame = ((frame % frames) + frames) % frames;
  }

  toggle(): void {
    if (this.playing) this.stop();
    else {
      this.playing = true;
      this.timer = setInterval(() => this.goTo(this.frame + 1), 1000 / CINE_FPS);
    }
  }

  stop(): void {
    this.playing = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
