// Runs in: the engine. What a user of an exported network must do to its input and with its output, from
// the facts of its model card: the same words in the export's README and, as key/value pairs, in the ONNX
// file's metadata.

import type { Genome } from '../searchspace/genome.ts';
import type { NetworkGraph } from './network-graph.ts';

/**
 * What the exports say about a trained network besides its weights. The caller fills it from the model
 * card (emonas-model.json) and its preprocessing plan, and from the inference settings emonas predict uses.
 */
export interface ModelFacts {
  genome: Genome;
  dataset: string;
  /** Background first; a label's class index is its position here. */
  labels: { value: number; name: string }[];
  head: 'softmax' | 'sigmoid';
  /** Canonical volume axes (0 = i, 1 = j, 2 = k) in network order. */
  axisOrder: readonly number[];
  /** mm per network axis; null keeps a case's own spacing on that axis. */
  targetSpacing: readonly (number | null)[];
  normalisation: string;
  patch: readonly number[];
  /** A case padded to at most this many patches' voxels is predicted in one window. */
  wholeCaseFactor: number;
  params: number;
  valDice: Record<string, number>;
  createdAt: string;
  /**
   * Label values of which emonas predict keeps only the largest connected component (6- or 26-connected),
   * as the model card's post-processing decision says; absent when it keeps every component.
   */
  largestComponent?: { labels: number[]; connectivity: number };
  /** The Emonas Studio version exporting, recorded in the ONNX file. */
  version: string;
}

const AXES = ['i', 'j', 'k'];

function spacing(facts: ModelFacts): string {
  return facts.targetSpacing
    .map((s, d) => `${s === null ? 'kept as acquired' : `${s} mm`} (network axis ${d + 1})`)
    .join(', ');
}

/** The network's own divisor: every input side must be a multiple of 2^pools. */
export function networkDivisor(facts: ModelFacts): number {
  return 2 ** ((facts.genome.cells - 1) / 2);
}

/** Numbered preprocessing and postprocessing steps, as plain sentences. */
export function preprocessingSteps(facts: ModelFacts): string[] {
  const order = facts.axisOrder.map((a) => AXES[a]).join(', ');
  const divisor = networkDivisor(facts);
  return [
    'Orientation: permute and flip the voxel axes (no resampling) so the image direction is as close to ' +
      'identity in LPS as axis swaps allow (for most images: nibabel as_closest_canonical, which gives ' +
      'RAS, then flip the first two axes).',
    `Axis order: the network's axes 1, 2, 3 are the canonical volume axes ${order}; axis 3 is the slice ` +
      "axis the genome's k x k x 1 kernels do not cross.",
    `Spacing: resample (linear) to ${spacing(facts)}; an axis already within 1% of its target is not touched.`,
    'Intensities: z-score per case (subtract the mean, divide by the standard deviation of all voxels of ' +
      'the resampled image; a standard deviation under 1e-8 divides by 1).',
    `Input: float32 [batch, 1, d1, d2, d3], each side a multiple of ${divisor}. A case whose padded size is at ` +
      `most ${facts.wholeCaseFactor}x the training patch ${facts.patch.join(' x ')} is predicted whole, padded with ` +
      `zeros (centred) to the next multiple of ${divisor}; a larger one by patch-sized windows overlapping by ` +
      'half, averaged with a Gaussian weight (sigma = side / 8).',
    facts.head === 'softmax'
      ? 'Output: logits and softmax probabilities, one channel per class in the label table order; the label ' +
        'of a voxel is the value of the class with the highest probability.'
      : 'Output: logits and sigmoid probabilities of the one foreground class; the label is the foreground ' +
        'value where the probability exceeds 0.5, else background.',
    'Back to the image: crop the padding, resample the class probabilities (linear) to the grid before ' +
      'resampling, take the label, then undo the axis order and the orientation.',
    ...(facts.largestComponent === undefined
      ? []
      : [
          `Post-processing: keep only the largest ${facts.largestComponent.connectivity}-connected component of ` +
            `label value(s) ${facts.largestComponent.labels.join(', ')} (decided on the validation cases when ` +
            'training ended).',
        ]),
  ];
}

export function labelTable(facts: ModelFacts): string[] {
  return facts.labels.map((l, k) => `class ${k}: value ${l.value} (${l.name})`);
}

/** The ONNX metadata_props: every key prefixed `emonas.`, values plain text or JSON. */
export function exportMetadata(facts: ModelFacts, graph: NetworkGraph): Record<string, string> {
  return {
    'emonas.genome': JSON.stringify(facts.genome),
    'emonas.labels': JSON.stringify(facts.labels),
    'emonas.head': graph.head,
    'emonas.axis_order': JSON.stringify(facts.axisOrder),
    'emonas.target_spacing_mm': JSON.stringify(facts.targetSpacing),
    'emonas.normalisation': facts.normalisation,
    'emonas.patch': JSON.stringify(facts.patch),
    'emonas.divisor': String(networkDivisor(facts)),
    'emonas.dataset': facts.dataset,
    'emonas.validation_dice': JSON.stringify(facts.valDice),
    ...(facts.largestComponent === undefined
      ? {}
      : { 'emonas.largest_component': JSON.stringify(facts.largestComponent) }),
    'emonas.preprocessing': preprocessingSteps(facts)
      .map((s, i) => `${i + 1}. ${s}`)
      .join('\n'),
  };
}

/** The README section shared by both formats: the model, its labels and its preprocessing. */
export function readmeBody(facts: ModelFacts, graph: NetworkGraph): string {
  const dice = Object.entries(facts.valDice)
    .map(([name, d]) => `${name} ${d.toFixed(3)}`)
    .join(', ');
  return [
    `Trained on ${facts.dataset} by Emonas Studio (${facts.createdAt}); ${facts.params} parameters; ` +
      `validation Dice: ${dice || 'not measured'}.`,
    '',
    `Genome: ${JSON.stringify(facts.genome)}`,
    '',
    `Input \`${graph.input}\`: ${graph.inChannels} channel(s). Outputs \`${graph.logits}\` and ` +
      `\`${graph.probabilities}\` (${graph.head}): ${graph.outChannels} channel(s).`,
    '',
    '## Labels',
    '',
    ...labelTable(facts).map((l) => `- ${l}`),
    '',
    '## Preprocessing (as in training; `emonas predict` does exactly this)',
    '',
    ...preprocessingSteps(facts).map((s, i) => `${i + 1}. ${s}`),
    '',
  ].join('\n');
}
