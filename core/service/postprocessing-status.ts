// Runs in: the engine (no tfjs). What prediction with a model folder does after the network, in words a
// person reads (`emonas predict`'s output, the review): its stored keep-largest-component decision applied,
// or why not. Kept apart from predict.ts so the engine can say it without loading tfjs.
import type { PostprocessingStatus } from '../api/review.ts';
import type { ModelCard } from '../train/model-card.ts';
import { keptLabels } from '../train/postprocess-decision.ts';

/**
 * What prediction with this model does after the network: the stored decision applied (to which labels),
 * or why nothing is (turned off, nothing stored, no label gained on validation).
 */
export function postprocessingStatus(card: ModelCard, enabled: boolean): PostprocessingStatus {
  const decision = card.postprocessing;
  const names = (values: number[]): string[] =>
    values.map((v) => card.plan.labels.find((l) => l.value === v)?.name ?? `label ${v}`);
  if (!decision) {
    return {
      applied: false,
      labels: [],
      summary:
        "Not post-processed: this model folder stores no post-processing decision (trained before it was made); the label maps are the network's own.",
    };
  }
  const kept = names(keptLabels(decision));
  if (!enabled) {
    return {
      applied: false,
      labels: [],
      summary: `Not post-processed: turned off (the model's stored decision keeps the largest component of ${kept.length > 0 ? kept.join(', ') : 'no label'}).`,
    };
  }
  if (kept.length === 0) {
    return {
      applied: false,
      labels: [],
      summary: `Not post-processed: on its ${decision.cases} validation cases keeping the largest component raised the mean Dice of no label.`,
    };
  }
  return {
    applied: true,
    labels: kept,
    summary:
      decision.basis === 'reference-protocol'
        ? `Post-processed: kept the largest face-connected component of ${kept.join(', ')}, as the reference protocol always does.`
        : `Post-processed: kept the largest connected component of ${kept.join(', ')} (decided on ${decision.cases} validation cases).`,
  };
}
