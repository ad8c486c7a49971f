import { describe, expect, it } from 'vitest';
import { BUILTIN_GENOMES, builtinGenome } from '../../../core/nn/builtin-genomes.ts';
import { planNetwork } from '../../../core/nn/network-plan.ts';
import { countParams } from '../../../core/nn/param-count.ts';

describe('built-in genomes (method.md section 8)', () => {
  it('spell the paper genotypes with node names as indices (input = 0, node k = k)', () => {
    expect(BUILTIN_GENOMES.prostate).toEqual({
      learningRate: 3e-4,
      filters: 32,
      cells: 7,
      inputs: [1, 0, 2],
      ops: ['convP3d_3x3', 'conv3d_3x3x3', 'conv2d_5x5', 'conv3d_1x1x1'],
    });
    expect(BUILTIN_GENOMES.hippocampus.inputs).toEqual([0, 1, 1]);
    expect(BUILTIN_GENOMES.cardiac.inputs).toEqual([0, 1, 3]);
    expect(BUILTIN_GENOMES.cardiac.ops).toEqual(['conv2d_3x3', 'convP3d_3x3', 'conv3d_1x1x1', 'conv2d_7x7']);
    expect(BUILTIN_GENOMES.small).toEqual({ ...BUILTIN_GENOMES.hippocampus, filters: 8, cells: 5 });
    for (const genome of Object.values(BUILTIN_GENOMES)) expect(() => planNetwork(genome, 1)).not.toThrow();
  });

  it('match the reported sizes: prostate exactly, the others to the paper rounding or within 3%', () => {
    expect(countParams(BUILTIN_GENOMES.prostate, { inChannels: 1, classes: 1 })).toBe(5_944_353);
    // Hippocampus: 7.0 M reported with a 3-class head.
    expect(
      Math.abs(countParams(BUILTIN_GENOMES.hippocampus, { inChannels: 1, classes: 3 }) - 7.0e6),
    ).toBeLessThan(0.1e6);
    // Cardiac: 7.1 M reported; a rebuild with a 4-class head has 7.28 M (method.md: "approximately").
    const cardiac = countParams(BUILTIN_GENOMES.cardiac, { inChannels: 1, classes: 4 });
    expect(Math.abs(cardiac / 7.1e6 - 1)).toBeLessThan(0.03);
  });

  it('hands out copies, and names the choices when asked for an unknown one', () => {
    const copy = builtinGenome('prostate');
    copy.ops[0] = 'identity';
    copy.inputs[0] = 0;
    expect(BUILTIN_GENOMES.prostate.ops[0]).toBe('convP3d_3x3');
    expect(BUILTIN_GENOMES.prostate.inputs[0]).toBe(1);
    expect(() => builtinGenome('liver')).toThrow(
      /no built-in network called "liver".*prostate, hippocampus, cardiac, small/,
    );
  });
});
