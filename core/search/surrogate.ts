// Runs in: the engine (or a helper thread of it). The random-forest surrogate of method.md section 4.6:
// bootstrap trees on all features, mean and population std over the per-tree predictions. Two engines:
// ml-random-forest (the default; maxFeatures 1.0, since it bags features per tree rather than per split)
// and fast-cart (fast-forest.ts). The last fit is kept, so strategies that refit once per generation pay
// for one fit.
import { RandomForestRegression } from 'ml-random-forest';
import { FastForest } from './fast-forest.ts';
import type { PredictRequest } from './protocol.ts';

export interface Surrogate {
  predict(request: PredictRequest): { mean: number[]; std: number[] };
}

type TreePredictor = (queries: number[][]) => number[][];

export class RandomForestSurrogate implements Surrogate {
  private last: { key: string; model: TreePredictor } | null = null;

  predict(request: PredictRequest): { mean: number[]; std: number[] } {
    const perTree = this.model(request)(request.queries);
    const mean: number[] = [];
    const std: number[] = [];
    for (const row of perTree) {
      const m = row.reduce((a, b) => a + b, 0) / row.length;
      mean.push(m);
      std.push(Math.sqrt(row.reduce((a, b) => a + (b - m) * (b - m), 0) / row.length));
    }
    return { mean, std };
  }

  private model(request: PredictRequest): TreePredictor {
    const key = `${JSON.stringify(request.settings)}|${request.fitKey}`;
    if (this.last?.key === key) return this.last.model;
    const model = request.settings.engine === 'fast-cart' ? fastCart(request) : mlRandomForest(request);
    this.last = { key, model };
    return model;
  }
}

function fastCart(request: PredictRequest): TreePredictor {
  const { trees, minSamplesSplit, seed } = request.settings;
  const forest = new FastForest(request.train.x, request.train.y, { trees, minSamplesSplit, seed });
  return (queries) => forest.treePredictions(queries);
}

function mlRandomForest(request: PredictRequest): TreePredictor {
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
  return (queries) => {
    const values = model.predictionValues(queries);
    return queries.map((_, i) => values.getRow(i));
  };
}
