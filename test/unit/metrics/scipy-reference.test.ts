import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hippocampusFolder,
  largestDifferences,
  readBundle,
  readReferenceResults,
  requirePythonReference,
  runReference,
  type Bundle,
  type ReferenceResults,
} from '../../../bench/metrics/bundle.ts';

const CASES = 5;

describe('agreement with the scipy reference on real hippocampus labels', () => {
  let folder = '';
  let bundle: Bundle;
  let reference: ReferenceResults;

  beforeAll(() => {
    requirePythonReference();
    const data = hippocampusFolder();
    if (!existsSync(join(data, 'labelsTr'))) {
      throw new Error(
        `The hippocampus labels are not at ${data}; set EMONAS_HIPPOCAMPUS to Task04_Hippocampus`,
      );
    }
    folder = mkdtempSync(join(tmpdir(), 'emonas-metrics-'));
    runReference(['prepare', data, folder, '--cases', String(CASES)]);
    runReference(['measure', folder, join(folder, 'reference.json'), '--tau', '1']);
    bundle = readBundle(folder);
    reference = readReferenceResults(join(folder, 'reference.json'));
    return () => rmSync(folder, { recursive: true, force: true });
  });

  it('covers eroded, dilated, shifted and missing-label copies on native and anisotropic spacing', () => {
    expect(bundle.pairs).toHaveLength(CASES * 4 * 2);
    expect(new Set(bundle.pairs.map((p) => p.perturbation))).toEqual(
      new Set(['eroded', 'dilated', 'shifted', 'missing_label_2']),
    );
    expect(bundle.pairs.some((p) => p.reference.spacing[2] === 4)).toBe(true);
  });

  it('agrees within 1e-4 mm on every distance and to rounding on every overlap figure', () => {
    const diff = largestDifferences(bundle, reference);
    for (const field of ['hd', 'hd95Pooled', 'hd95MaxDirected', 'assd']) {
      expect(diff[field], field).toBeLessThan(1e-4);
    }
    for (const field of ['dice', 'jaccard', 'sensitivity', 'precision', 'arvd', 'nsd']) {
      expect(diff[field], field).toBeLessThan(1e-9);
    }
    for (const field of ['volumeReference', 'volumePrediction'])
      expect(diff[field], field).toBeLessThan(1e-9);
  });

  it('compares structures that are really apart (the comparison is not trivially zero)', () => {
    const shifted = reference.results.filter((_, n) => bundle.pairs[n]?.perturbation === 'shifted');
    expect(shifted.length).toBeGreaterThan(0);
    expect(shifted.every((r) => r['1']!.hd > 1)).toBe(true);
  });
});
