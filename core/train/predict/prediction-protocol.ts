// Runs in: the engine or a prediction worker (no tfjs). The model as a prediction under a protocol sees it.
// By default a prediction follows the protocol the model was trained with (its emonas-model.json); asked for
// another, it follows that one: 'reference' predicts by slab windows (core/train/slab-inference.ts) and
// keeps the largest connected component of every label with face connectivity, always, as the reference
// does (method.md section 6.3); 'emonas' predicts whole volumes or by Gaussian-weighted windows and applies
// the decision made on validation, keeping a label's largest component only where that raised its Dice.
import { DEFAULT_PROTOCOL, type TrainingProtocol } from '../../base/training-protocol.ts';
import type { ModelCard } from '../model-card.ts';
import type { StoredPostprocessing } from '../postprocess-decision.ts';

/** The card with the protocol a prediction follows and the post-processing that protocol applies. */
export function cardForProtocol(card: ModelCard, asked?: TrainingProtocol): ModelCard {
  const protocol = asked ?? card.protocol ?? DEFAULT_PROTOCOL;
  const stored = card.postprocessing;
  const { postprocessing: _stored, ...rest } = card;
  if (protocol === 'reference') {
    return { ...rest, protocol, postprocessing: referencePostprocessing(card) };
  }
  if (stored?.basis !== 'reference-protocol')
    return { ...rest, protocol, ...(stored && { postprocessing: stored }) };
  // The reference's record measured the Dice with and without the largest component on validation: this
  // project's rule keeps a label's component only where that raised it.
  return {
    ...rest,
    protocol,
    postprocessing: {
      ...stored,
      basis: 'best-epoch',
      labels: stored.labels.map((d) => ({ ...d, apply: d.meanDiceAfter > d.meanDiceBefore })),
    },
  };
}

/** Every foreground label's largest face-connected component, with the validation Dice where measured. */
function referencePostprocessing(card: ModelCard): StoredPostprocessing {
  const stored = card.postprocessing;
  if (stored?.basis === 'reference-protocol') return stored;
  return {
    connectivity: 6,
    cases: 0,
    labels: card.plan.labels.slice(1).map((l) => ({
      label: l.value,
      meanDiceBefore: NaN,
      meanDiceAfter: NaN,
      apply: true,
    })),
    basis: 'reference-protocol',
  };
}
