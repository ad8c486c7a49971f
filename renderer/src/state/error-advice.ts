// Runs in: the renderer. The way forward for each kind of engine error, shown under the engine's own
// sentence (which already names the file).
import type { ErrorCode, ErrorData } from '../../../core/api/envelope.ts';

const ADVICE: Record<ErrorCode, string> = {
  bad_request: 'Check what you entered and try again.',
  not_found: 'Check that the path exists on the computer the engine runs on, and that it is spelt exactly.',
  unreadable_file:
    'Check that the file can be opened and is complete; download it again if it was cut short.',
  unsupported_format: 'Convert the file to NIfTI (.nii or .nii.gz) or MetaImage (.mhd with its .raw).',
  invalid_dataset:
    'Point at the top folder of the dataset as its owners distribute it: the folder holding dataset.json (Decathlon), database/ or training/ (ACDC), or the TrainingData_Part folders (PROMISE12).',
  geometry_mismatch: 'Re-export the label map on the grid of its image, or leave this case out.',
  invalid_genome: 'Check the network description; the engine message says which part is wrong.',
  out_of_memory: 'Use a smaller patch or batch, or close other programs using the GPU.',
  diverged: 'Lower the learning rate; this candidate is recorded as failed and the search goes on.',
  worker_crashed:
    'The training process stopped unexpectedly; the candidate is recorded as failed. Check the engine log.',
  cancelled: 'The job was cancelled; start it again when you are ready.',
  disk_full: 'Free some disk space on the drive holding the data folder, then try again.',
  backend_unavailable: 'See Settings for which training backends are available and why.',
  conflict: 'Choose another name, or remove the existing one first.',
  exists: 'Choose another name, or agree to replace the existing file.',
  internal: 'This is a fault in Emonas Studio; the engine log has the details. Please report it.',
};

/** The sentence to show under an error: what the user can do about it. */
export function adviceFor(error: ErrorData): string {
  if ((error.details as { disconnected?: unknown } | undefined)?.disconnected === true) {
    return 'Start the engine again (emonas serve), or connect to its new address from the notice at the top; nothing is lost, and an interrupted search can be resumed.';
  }
  return ADVICE[error.code] ?? ADVICE.internal;
}
