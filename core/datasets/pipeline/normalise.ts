// Runs in: any process. Intensity normalisation. MRI intensities are arbitrary per scan, so each case is
// z-scored on its own (nnU-Net's choice for non-CT data); computed in float64 so large volumes do not
// lose precision in the sums.

export interface IntensityStats {
  mean: number;
  std: number;
}

export function intensityStats(data: ArrayLike<number>): IntensityStats {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] as number;
  const mean = data.length > 0 ? sum / data.length : 0;
  let sq = 0;
  for (let i = 0; i < data.length; i++) {
    const d = (data[i] as number) - mean;
    sq += d * d;
  }
  return { mean, std: data.length > 0 ? Math.sqrt(sq / data.length) : 0 };
}

/**
 * z-scores in place. A constant image (std 0) is only centred: dividing by a tiny std would blow noise
 * up to unit variance.
 */
export function zScoreInPlace(data: Float32Array): IntensityStats {
  const stats = intensityStats(data);
  const scale = stats.std > 1e-8 ? 1 / stats.std : 1;
  for (let i = 0; i < data.length; i++) data[i] = ((data[i] as number) - stats.mean) * scale;
  return stats;
}
