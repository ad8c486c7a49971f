// Runs in: the engine. One scan a model was applied to (apply-scans.ts), read back for the viewer: the image
// as given (the predicted frame of a 4D series) and the prediction written for it, which must share its
// grid; and a 4D image's cine, one slice through every frame. The files are the ones the user named to
// scans.apply, so they are read where they are, as apply read them.
import { basename, dirname } from 'node:path';
import type { AppliedScanVolume } from '../api/finish.ts';
import type { CineSlice } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import { openVolume, readVolume } from '../io/volume-files.ts';
import { readModelCard } from '../train/model-card.ts';
import { requireAbsolute } from './export-target.ts';
import { cineSlice } from './review.ts';
import { volumeData } from './volume-data.ts';

export interface AppliedScanRef {
  /** The image given to scans.apply. */
  input: string;
  /** 1-based frame of a 4D series. */
  frame?: number;
  /** The prediction scans.apply wrote for it. */
  output: string;
}

export async function appliedScanVolume(modelDir: string, ref: AppliedScanRef): Promise<AppliedScanVolume> {
  const card = await readModelCard(modelDir);
  const opened = await openVolume(requireAbsolute(ref.input, 'scan'));
  const frames = opened.header.frames;
  const frame = ref.frame ?? 1;
  if (frame > frames || (frames > 1 && ref.frame === undefined)) {
    throw new EmonasError(
      'bad_request',
      frames > 1
        ? `${ref.input} is a 4D series of ${frames} frames: name the frame (1 to ${frames}) whose prediction to show.`
        : `${ref.input} is a single 3D image; it has no frame ${frame}.`,
      { file: ref.input },
    );
  }
  const image = opened.readFrame(frame - 1);
  const prediction = await readVolume(requireAbsolute(ref.output, 'prediction'));
  if (prediction.shape.some((n, axis) => n !== image.shape[axis])) {
    throw new EmonasError(
      'bad_request',
      `${ref.output} (${prediction.shape.join('x')}) is not a prediction of ${ref.input} (${image.shape.join('x')}); apply the model to it again.`,
      { file: ref.output },
    );
  }
  return {
    labels: Object.fromEntries(card.plan.labels.map((l) => [l.value, l.name])),
    image: volumeData(image),
    prediction: volumeData(prediction),
    ...(frames > 1 && { cine: { frames, ed: 0, es: 0 } }),
  };
}

/** One slice of a 4D image through every frame; without the ACDC patient's Info.cfg, no ED or ES is marked. */
export async function appliedScanCine(input: string, slice: number): Promise<CineSlice> {
  const file = requireAbsolute(input, 'scan');
  return cineSlice({ id: basename(file), cine: file }, slice, { root: dirname(file), allowLinks: true });
}
