// Runs in: the engine. A volume in the contract's wire form (core/api's VolumeData), for every method that
// answers with voxels: a dataset's case, a reviewed case, a candidate's prediction.
import type { VolumeData } from '../api/datasets.ts';
import type { Volume } from '../io/volume.ts';

/** float64 voxels cross as float32: the viewer needs no more, and it halves what crosses. */
export function volumeData(volume: Volume): VolumeData {
  const data = volume.data instanceof Float64Array ? Float32Array.from(volume.data) : volume.data;
  return {
    data,
    shape: volume.shape,
    spacing: volume.spacing,
    origin: volume.origin,
    direction: volume.direction,
  };
}
