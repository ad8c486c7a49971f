// Runs in: the engine or a prediction worker (it loads tfjs). One image predicted with a loaded model
// folder: put in the canonical orientation, preprocessed with the model's own plan, predicted whole or by
// sliding windows, and its label map mapped back through the resampling and the orientation onto the
// image's own grid, then written with the source's file format and geometry. With the model folder's
// stored post-processing decision, each label keeps only its largest connected component on that grid.
// A card of protocol 'reference' (prediction-protocol.ts) is predicted by the reference's slab windows.
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EmonasError } from '../../base/errors.ts';
import { preprocessImage, restoreLabelMap } from '../../datasets/pipeline/preprocess.ts';
import { fromCanonical, toCanonical } from '../../io/orientation.ts';
import { openVolume, writeVolume } from '../../io/volume-files.ts';
import { applyPostprocessing, type PostprocessingDecision } from '../../metrics/postprocessing.ts';
import { predictProbabilities } from '../inference.ts';
import { predictSlabWindows } from '../slab-inference.ts';
import type { ModelCard } from '../model-card.ts';
import { keptLabels } from '../postprocess-decision.ts';

/** Predicts one image into `output`; with a decision, its labels keep only their largest component. */
export async function predictFile(
  model: LayersModel,
  card: ModelCard,
  input: string,
  output: string,
  decision?: PostprocessingDecision,
): Promise<void> {
  const opened = await openVolume(input);
  if (opened.header.frames > 1) {
    throw new EmonasError(
      'unsupported_format',
      `${input} is a 4D series of ${opened.header.frames} frames; predict one 3D frame at a time.`,
      { file: input },
    );
  }
  const source = opened.readFrame(0);
  const { volume: canonical, transform } = toCanonical(source);
  const { plan } = card;
  const { grid, record } = preprocessImage(
    { data: canonical.data, shape: canonical.shape, spacing: canonical.spacing },
    plan,
    input,
  );
  const options = {
    patch: plan.patch,
    divisor: 2 ** ((card.genome.cells - 1) / 2),
    head: plan.head,
    classes: plan.labels.length,
  };
  const probabilities =
    card.protocol === 'reference'
      ? await predictSlabWindows(model, grid, options)
      : await predictProbabilities(model, grid, options);
  const labels = restoreLabelMap(probabilities, record, plan);
  // Components are counted on the image's own grid (orientation does not change them), as nnU-Net does.
  const data =
    decision && keptLabels(decision).length > 0
      ? Uint8Array.from(applyPostprocessing(labels.data, labels.shape, decision))
      : labels.data;
  const restored = fromCanonical({ ...canonical, data, dataType: 'uint8' }, transform);
  await writeVolume(output, restored, opened.header, { dataType: 'uint8' });
}
