// Runs in: the renderer. A run's final training ("Train this network fully"): the settings to start one with,
// the training in progress (live learning curves, epochs, time left), pause, resume and cancel, and the final
// model it leaves. Like the dashboard, events are only a cue: final.get gives the whole state again on every
// start, end, reconnection and open, so a training that went on (or stopped) while the app was away is shown
// as the engine has it.
import type { ApiClient } from '../../../core/api/client.ts';
import type { ErrorData } from '../../../core/api/envelope.ts';
import type { FinalModel, FinalState } from '../../../core/api/finish.ts';

/** What the form holds; an empty number leaves the engine's default. */
export interface FinalForm {
  /** A candidate id; empty: the front's most accurate. */
  candidate: string;
  epochs: number | null;
  stepsPerEpoch: number | null;
  /** Minutes; empty or 0: no time limit. */
  maxMinutes: number | null;
  /** From a new initialisation instead of the candidate's weights in the search. */
  fresh: boolean;
}

/** States in which the engine trains (or is about to stop training) the network. */
const TRAINING: readonly FinalState[] = ['running', 'stopping'];
/** States a training can be resumed from. */
const RESUMABLE: readonly FinalState[] = ['paused', 'interrupted', 'failed'];

export const FINAL_STATE_NAMES: Record<FinalState, string> = {
  none: 'not trained',
  running: 'training',
  stopping: 'stopping',
  paused: 'paused',
  interrupted: 'interrupted',
  failed: 'failed',
  finished: 'trained',
};

function isDisconnection(error: ErrorData): boolean {
  return (error.details as { disconnected?: unknown } | undefined)?.disconnected === true;
}

/** A number from a form field, or undefined (an empty field) for the engine's default. */
function setting(value: number | null): number | undefined {
  return value === null || !Number.isFinite(value) ? undefined : value;
}

export class FinalTraining {
  runId = $state<string | null>(null);
  final = $state.raw<FinalModel | null>(null);
  error = $state.raw<ErrorData | null>(null);
  /** An action under way, to disable the buttons meanwhile. */
  busy = $state(false);
  formOpen = $state(false);
  form = $state<FinalForm>({
    candidate: '',
    epochs: null,
    stepsPerEpoch: null,
    maxMinutes: null,
    fresh: false,
  });
  confirmingCancel = $state(false);
  /** Cases preprocessed before the first epoch, while the training prepares. */
  preparing = $state.raw<{ done: number; total: number } | null>(null);
  etaSeconds = $state<number | null>(null);

  constructor(private readonly client: ApiClient) {
    const cue = (final: FinalModel) => {
      if (final.runId !== this.runId) return;
      this.final = final;
      this.preparing = null;
      void this.refresh();
    };
    client.on('final.started', ({ final }) => cue(final));
    client.on('final.ended', ({ final }) => cue(final));
    client.on('final.preprocessed', ({ runId, done, total }) => {
      if (runId === this.runId) this.preparing = { done, total };
    });
    client.on('final.progressed', ({ runId, point, etaSeconds }) => {
      if (runId !== this.runId || !this.final) return;
      this.preparing = null;
      this.etaSeconds = etaSeconds;
      const curves = this.final.curves.filter((p) => p.epoch !== point.epoch);
      this.final = { ...this.final, curves: [...curves, point].sort((a, b) => a.epoch - b.epoch) };
    });
  }

  get state(): FinalState {
    return this.final?.state ?? 'none';
  }

  get training(): boolean {
    return TRAINING.includes(this.state);
  }

  get resumable(): boolean {
    return RESUMABLE.includes(this.state);
  }

  /** Epochs completed of those asked for, while a training is in progress, paused or interrupted. */
  get epochs(): { done: number; total: number } | null {
    const request = this.final?.request;
    return request ? { done: this.final?.curves.length ?? 0, total: request.epochs } : null;
  }

  async open(runId: string): Promise<void> {
    this.runId = runId;
    this.final = null;
    this.error = null;
    this.formOpen = false;
    this.confirmingCancel = false;
    this.preparing = null;
    this.etaSeconds = null;
    this.form = { candidate: '', epochs: null, stepsPerEpoch: null, maxMinutes: null, fresh: false };
    await this.refresh();
  }

  close(): void {
    this.runId = null;
    this.final = null;
  }

  async refresh(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const result = await this.client.call('final.get', { runId });
    if (runId !== this.runId) return;
    if (result.ok) this.final = result.value;
    else if (!isDisconnection(result.error)) this.error = result.error;
  }

  /** Opens the form for one candidate ("Train this network fully" on a candidate). */
  chooseCandidate(candidateId: string): void {
    this.form.candidate = candidateId;
    this.formOpen = true;
  }

  async start(): Promise<void> {
    const runId = this.runId;
    if (runId === null) return;
    const { candidate, fresh } = this.form;
    const epochs = setting(this.form.epochs);
    const stepsPerEpoch = setting(this.form.stepsPerEpoch);
    const maxMinutes = setting(this.form.maxMinutes);
    await this.act(() =>
      this.client.call('final.start', {
        runId,
        ...(candidate !== '' && { candidate }),
        ...(epochs !== undefined && { epochs }),
        ...(stepsPerEpoch !== undefined && { stepsPerEpoch }),
        ...(maxMinutes !== undefined && { maxMinutes }),
        fresh,
      }),
    );
    if (this.error === null) this.formOpen = false;
  }

  async pause(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) await this.act(() => this.client.call('final.pause', { runId }));
  }

  async resume(): Promise<void> {
    const runId = this.runId;
    if (runId !== null) await this.act(() => this.client.call('final.resume', { runId }));
  }

  async cancel(): Promise<void> {
    this.confirmingCancel = false;
    const runId = this.runId;
    if (runId !== null) await this.act(() => this.client.call('final.cancel', { runId }));
  }

  private async act(
    call: () => Promise<{ ok: true; value: FinalModel } | { ok: false; error: ErrorData }>,
  ): Promise<void> {
    this.busy = true;
    this.error = null;
    this.etaSeconds = null;
    const result = await call();
    this.busy = false;
    if (result.ok) this.final = result.value;
    else this.error = result.error;
  }
}
