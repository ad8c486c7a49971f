// Runs in: any process. Checks that a Volume handed to a writer is self-consistent, so a bad volume fails
// with a sentence instead of producing a file no viewer can open.
import { EmonasError } from '../base/errors.ts';
import { nameOf } from './files.ts';
import { voxelCount, type Volume } from './volume.ts';

export function checkVolume(volume: Volume, file: string): void {
  const name = nameOf(file);
  const fail = (why: string) => {
    throw new EmonasError('bad_request', `${name} cannot be written: ${why}.`, { file });
  };
  if (!volume.shape.every((n) => Number.isInteger(n) && n >= 1)) {
    fail(`the volume's shape ${volume.shape.join('×')} is not three positive whole numbers`);
  }
  if (volume.data.length !== voxelCount(volume.shape)) {
    fail(
      `the volume holds ${volume.data.length} values but its shape ${volume.shape.join('×')} needs ${voxelCount(volume.shape)}`,
    );
  }
  if (!volume.spacing.every((s) => Number.isFinite(s) && s > 0)) {
    fail(`the voxel spacing ${volume.spacing.join(', ')} is not three positive sizes`);
  }
  if (!volume.origin.every(Number.isFinite) || !volume.direction.every(Number.isFinite)) {
    fail('its origin or direction holds a value that is not a finite number');
  }
}
