// Runs in: any process (no imports). The training settings' defaults, apart from the training code so that
// `emonas train --help` and `emonas search --help` can show them without loading it.

/**
 * The train command's own defaults, sized so the small genome on the hippocampus dataset trains within
 * 20 minutes on 2 CPU cores: a 17-minute training budget (reading and caching the cases, starting the
 * worker and writing the model fit in the rest), epochs of 50 steps so validating 20 whole cases costs
 * little. The search keeps the reference's (C = 120 epochs of 20 steps, ...).
 */
export const TRAIN_DEFAULTS = {
  epochs: 40,
  stepsPerEpoch: 50,
  batchSize: 2,
  maxMinutes: 17,
  valFraction: 0.1,
  testFraction: 0.1,
  seed: 0,
  foregroundProbability: 0.33,
} as const;

/** The reference's candidate training: 20 steps per epoch in batches of 2 (C comes from the search). */
export const SEARCH_TRAINING_DEFAULTS = {
  stepsPerEpoch: 20,
  batchSize: 2,
  maxMinutes: 0,
  valFraction: TRAIN_DEFAULTS.valFraction,
  testFraction: TRAIN_DEFAULTS.testFraction,
  splitSeed: 0,
} as const;
