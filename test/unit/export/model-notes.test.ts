// The export's notes say what emonas predict does beyond the network: the post-processing only when the
// model card decided it, and the network's own divisor rather than the plan's.
import { describe, expect, it } from 'vitest';
import { builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { exportMetadata, preprocessingSteps, type ModelFacts } from '../../../core/export/model-notes.ts';
import type { NetworkGraph } from '../../../core/export/network-graph.ts';

const facts: ModelFacts = {
  genome: builtinGenome('small'),
  dataset: 'Hippocampus',
  labels: [
    { value: 0, name: 'background' },
    { value: 1, name: 'Anterior' },
    { value: 2, name: 'Posterior' },
  ],
  head: 'softmax',
  axisOrder: [0, 1, 2],
  targetSpacing: [1, 1, null],
  normalisation: 'zscore-per-case',
  patch: [32, 48, 32],
  wholeCaseFactor: 3,
  params: 1,
  valDice: {},
  createdAt: '2026-12-07T00:00:00.000Z',
  version: '0.1.0',
};
const graph = { head: 'softmax' } as NetworkGraph;

describe('export notes', () => {
  it('state the input divisor of the network (2^pools), the kept slice spacing and no post-processing', () => {
    const steps = preprocessingSteps(facts);
    expect(steps.find((s) => s.startsWith('Input:'))).toContain('each side a multiple of 4');
    expect(steps.find((s) => s.startsWith('Spacing:'))).toContain('kept as acquired (network axis 3)');
    expect(steps.some((s) => s.startsWith('Post-processing'))).toBe(false);
    expect(exportMetadata(facts, graph)['emonas.largest_component']).toBeUndefined();
  });

  it('state the largest-component post-processing when the model card decided it', () => {
    const withDecision = { ...facts, largestComponent: { labels: [1, 2], connectivity: 26 } };
    expect(preprocessingSteps(withDecision).at(-1)).toBe(
      'Post-processing: keep only the largest 26-connected component of label value(s) 1, 2 (decided on the ' +
        'validation cases when training ended).',
    );
    expect(JSON.parse(exportMetadata(withDecision, graph)['emonas.largest_component'] ?? 'null')).toEqual({
      labels: [1, 2],
      connectivity: 26,
    });
  });
});
