// Runs in: a training worker (no tfjs). Early stopping and learning-rate reduction with the semantics of
// the Keras 2.3 callbacks the reference attaches (method.md section 5.1): early stopping on the
// validation loss (min_delta 0.001, patience 20, no weight restore), ReduceLROnPlateau on the training
// loss (x0.5, patience 30, min_delta 1e-4, floor 1e-7). Both are plain state machines fed one epoch at a
// time, whose state a checkpoint saves and a resumed training restores.

export interface EarlyStoppingSettings {
  patience: number;
  minDelta: number;
}

export interface PlateauSettings {
  factor: number;
  patience: number;
  minDelta: number;
  minLearningRate: number;
}

export const REFERENCE_EARLY_STOPPING: EarlyStoppingSettings = { patience: 20, minDelta: 0.001 };
export const REFERENCE_PLATEAU: PlateauSettings = {
  factor: 0.5,
  patience: 30,
  minDelta: 1e-4,
  minLearningRate: 1e-7,
};

/** Best loss so far (null: none yet, as JSON has no Infinity) and epochs waited since. */
export interface ScheduleState {
  best: number | null;
  wait: number;
}

export interface PlateauState extends ScheduleState {
  learningRate: number;
}

export class EarlyStopping {
  private best = Infinity;
  private wait = 0;

  constructor(private readonly s: EarlyStoppingSettings) {}

  state(): ScheduleState {
    return { best: Number.isFinite(this.best) ? this.best : null, wait: this.wait };
  }

  restore(state: ScheduleState): void {
    this.best = state.best ?? Infinity;
    this.wait = state.wait;
  }

  /** Feeds one epoch's validation loss; true when training should stop after this epoch. */
  update(valLoss: number): boolean {
    if (valLoss < this.best - this.s.minDelta) {
      this.best = valLoss;
      this.wait = 0;
      return false;
    }
    this.wait++;
    return this.wait >= this.s.patience;
  }
}

export class LearningRatePlateau {
  private best = Infinity;
  private wait = 0;

  constructor(
    private readonly s: PlateauSettings,
    private rate: number,
  ) {}

  get learningRate(): number {
    return this.rate;
  }

  state(): PlateauState {
    return { best: Number.isFinite(this.best) ? this.best : null, wait: this.wait, learningRate: this.rate };
  }

  restore(state: PlateauState): void {
    this.best = state.best ?? Infinity;
    this.wait = state.wait;
    this.rate = state.learningRate;
  }

  /** Feeds one epoch's training loss; returns the learning rate for the next epoch. */
  update(trainLoss: number): number {
    if (trainLoss < this.best - this.s.minDelta) {
      this.best = trainLoss;
      this.wait = 0;
    } else {
      this.wait++;
      if (this.wait >= this.s.patience && this.rate > this.s.minLearningRate) {
        this.rate = Math.max(this.rate * this.s.factor, this.s.minLearningRate);
        this.wait = 0;
      }
    }
    return this.rate;
  }
}
