// Runs in: the engine (or a helper thread of it). The random-forest surrogate of method.md section 4.6 with
// ml-random-forest: bootstrap trees on all features (maxFeatures 1.0, since this library bags features per
// tree rather than per split), mean and population std over the per-tree predictions. The last fit is kept,
// so strategies that refit once per generation pay for one fit.
import { RandomForestRegression } from 'ml-random-forest';
import type { PredictRequest } from './protocol.ts';

export interface Surrogate {
  predict(request: PredictRequest): { mean: number[]; std: number[] };
}

export class RandomForestSurrogate implements Surrogate {
  private last: { key: string; model: RandomForestRegression } | null = null;

  predict(request: PredictRequest): { mean: number[]; std: number[] } {
    const model = this.model(request);
    const values = model.predictionValues(request.queries);
    const mean: number[] = [];
    const std: number[] = [];
    for (let i = 0; i < request.queries.length; i++) {
      const row = values.getRow(i);
      const m = row.reduce((a, b) => a + b, 0) / row.length;
      mean.push(m);
      std.push(Math.sqrt(row.reduce((a, b) => a + (b - m) * (b - m), 0) / row.length));
    }
    return { mean, std };
  }

  private model(request: PredictRequest): RandomForestRegression {
    const key = `${JSON.stringify(request.settings)}|${request.fitKey}`;
    if (this.last?.key === key) return this.last.model;
    const model = new RandomForestRegression({
      nEstimators: request.settings.trees,
      maxFeatures: request.settings.maxFeatures,
      seed: request.settings.seed,
      replacement: false,
      useSampleBagging: true,
      noOOB: true,
      // ml-cart makes a leaf of a node with at most minNumSamples rows; scikit-learn's min_samples_split
      // splits a node only from that many rows, so the two differ by one.
      treeOptions: { minNumSamples: request.settings.minSamplesSplit - 1 },
    });
    model.train(request.train.x, request.train.y);
    this.last = { key, model };
    return model;
  }
}
