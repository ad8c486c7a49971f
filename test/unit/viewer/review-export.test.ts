// The review of a trained candidate and what leaves a run: predictions computed in a worker and cached in
// the candidate's folder, per-case metrics worst first, the viewer's volumes, exports in the dataset's own
// format and geometry (read back by nibabel), the network with its genome, and the HTML report.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unzlibSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVolume, readVolumeHeader } from '../../../core/io/volume-files.ts';
import { loadModel } from '../../../core/nn/save-load.ts';
import { inspectDataset } from '../../../core/service/datasets.ts';
import { createEngine } from '../../../core/service/index.ts';
import { evaluatePredictions } from '../../../core/metrics/evaluation/evaluate-folder.ts';
import { exportModel, exportPredictions, exportReport } from '../../../core/service/export.ts';
import { candidateFolder, type CandidateRef } from '../../../core/service/review-candidate.ts';
import { REVIEW_FILES } from '../../../core/service/review-predictions.ts';
import { cineSlice, reviewCandidate, reviewCase, reviewPrediction } from '../../../core/service/review.ts';
import { writePromise12Tree } from '../../fixtures/promise12-tree.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';
import { rejection, requirePython, runPython } from '../io/helpers.ts';
import { writeCandidateModel, writeFormulaRun, writeSyntheticAcdc, writeSyntheticMsd } from './fixtures.ts';

const temp = tempDirs('review');
let dataset: Awaited<ReturnType<typeof writeSyntheticMsd>>;
let ref: CandidateRef;
let untrained: CandidateRef;

beforeAll(async () => {
  requirePython();
  dataset = await writeSyntheticMsd(temp.make(), { count: 4 });
  const runDir = join(temp.make(), 'run-review');
  const { front } = await writeFormulaRun(runDir);
  const [smallest, other] = [...front].sort((a, b) => a.params - b.params);
  if (!smallest || !other) throw new Error('the formula run should have a front of two or more');
  ref = { runDir, runId: 'run-review', candidateId: smallest.id };
  untrained = { runDir, runId: 'run-review', candidateId: other.id };
  await writeCandidateModel(candidateFolder(ref), dataset.root, {
    genome: smallest.genome,
    val: dataset.ids.slice(0, 2),
  });
}, 120_000);

afterAll(() => temp.cleanup());

describe('reviewing a trained candidate', () => {
  it('predicts its validation cases in a worker, caches them, and lists them worst first', async () => {
    const progress: string[] = [];
    const review = await reviewCandidate(ref, {
      onProgress: (done, total, id) => progress.push(`${done}/${total} ${id}`),
    });
    expect(review.predicted).toBe(2);
    expect(progress).toHaveLength(2);
    expect(progress[1]).toMatch(/^2\/2 /);
    expect(review.cases.map((c) => c.id).sort()).toEqual(dataset.ids.slice(0, 2));
    expect(review.cases[0]!.meanDice).toBeLessThanOrEqual(review.cases[1]!.meanDice);
    expect(Object.keys(review.structures)).toEqual(['Anterior', 'Posterior']);
    expect(review.definitions.hd95).toMatch(/percentile/);

    const direct = await evaluatePredictions({
      pred: join(candidateFolder(ref), REVIEW_FILES.predictions),
      gt: dataset.root,
    });
    for (const c of review.cases) {
      const entry = direct.perCase.find((e) => e.id === c.id)!;
      for (const name of ['Anterior', 'Posterior']) {
        expect(c.structures[name]!.dice).toBe((entry[name] as { dice: number }).dice);
      }
      const dice = Object.values(c.structures).map((s) => s.dice);
      expect(c.meanDice).toBeCloseTo(dice.reduce((a, b) => a + b) / dice.length, 12);
    }

    const again = await reviewCandidate(ref);
    expect(again.predicted).toBe(0);
    expect(again.cases).toEqual(review.cases);
  }, 120_000);

  it('predicts again, not from the cache, once the candidate is trained again', async () => {
    const review = await reviewCandidate(ref);
    const genome = review.genome as Parameters<typeof writeCandidateModel>[2]['genome'];
    await writeCandidateModel(candidateFolder(ref), dataset.root, {
      genome,
      val: dataset.ids.slice(0, 2),
      seed: 2,
    });
    expect((await reviewCandidate(ref)).predicted).toBe(2);
  }, 120_000);

  it("gives a case's image, ground truth and prediction on one grid, and names a case it does not have", async () => {
    const id = dataset.ids[0]!;
    const c = await reviewCase(ref, id);
    expect(c.image.shape).toEqual(dataset.grid.shape);
    for (const v of [c.label, c.prediction]) {
      expect(v.shape).toEqual(c.image.shape);
      expect(v.spacing).toEqual(c.image.spacing);
      expect(v.origin).toEqual(c.image.origin);
      expect(v.direction).toEqual(c.image.direction);
      expect(v.data).toBeInstanceOf(Uint8Array);
    }
    expect(c.labels).toMatchObject({ 1: 'Anterior', 2: 'Posterior' });
    expect(c.cine).toBeUndefined();
    expect((await reviewPrediction(ref, id)).data).toEqual(c.prediction.data);
    const err = await rejection(reviewCase(ref, dataset.ids[3]!));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain(dataset.ids[3]!);
  });

  it('refuses a candidate without a trained network, naming the missing file', async () => {
    const err = await rejection(reviewCandidate(untrained));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('emonas-model.json');
    expect(err.file).toContain(untrained.candidateId);
  });
});

describe('exports', () => {
  it('writes predictions that open exactly on their source images (nibabel: same affine, shape, codes)', async () => {
    const folder = temp.make();
    const { files } = await exportPredictions(ref, folder);
    expect(files.map((f) => basename(f)).sort()).toEqual(dataset.ids.slice(0, 2).map((id) => `${id}.nii.gz`));
    const pairs = files.map((f) => [f, join(dataset.root, 'imagesTr', basename(f))]);
    const checks = runPython<
      { same_affine: boolean; same_shape: boolean; same_codes: boolean; dtype: string; labels: number[] }[]
    >(
      `
import json, sys, nibabel as nib, numpy as np
out = []
args = sys.argv[1:]
for pred_file, image_file in zip(args[0::2], args[1::2]):
    p, i = nib.load(pred_file), nib.load(image_file)
    out.append({
        "same_affine": bool(np.allclose(p.affine, i.affine, atol=1e-5)),
        "same_shape": p.shape == i.shape,
        "same_codes": int(p.header["sform_code"]) == int(i.header["sform_code"]) and int(p.header["qform_code"]) == int(i.header["qform_code"]),
        "dtype": str(p.get_data_dtype()),
        "labels": sorted(int(v) for v in np.unique(np.asanyarray(p.dataobj))),
    })
print(json.dumps(out))
`,
      pairs.flat(),
    );
    expect(checks).toHaveLength(pairs.length);
    for (const c of checks) {
      expect(c).toMatchObject({ same_affine: true, same_shape: true, same_codes: true, dtype: 'uint8' });
      expect(c.labels.every((v) => v >= 0 && v <= 2)).toBe(true);
    }
    const before = readFileSync(files[0]!);
    const again = await rejection(exportPredictions(ref, folder));
    expect(again.code).toBe('exists');
    expect(again.message).toContain(folder);
    expect(readFileSync(files[0]!)).toEqual(before);
    const replaced = await exportPredictions(ref, folder, true);
    expect(replaced.files.sort()).toEqual([...files].sort());
  }, 60_000);

  it('writes a PROMISE12 prediction as MetaImage (.mhd with its .raw) on the source grid', async () => {
    const tree = await writePromise12Tree(temp.make());
    const manifest = await inspectDataset(tree.root);
    const val = manifest.cases
      .filter((c) => c.subset === 'train' && c.label)
      .map((c) => c.id)
      .slice(0, 1);
    const promise: CandidateRef = { runDir: ref.runDir, runId: ref.runId, candidateId: 'promise12-model' };
    const review = await reviewCandidate(ref);
    await writeCandidateModel(candidateFolder(promise), tree.root, {
      genome: review.genome as Parameters<typeof writeCandidateModel>[2]['genome'],
      val,
    });
    const folder = temp.make();
    const { files } = await exportPredictions(promise, folder);
    const names = files.map((f) => basename(f)).sort();
    expect(names).toEqual([`${val[0]}.mhd`, `${val[0]}.raw`]);
    const source = manifest.cases.find((c) => c.id === val[0])!.image;
    const [exported, original] = await Promise.all([
      readVolumeHeader(join(folder, `${val[0]}.mhd`)),
      readVolumeHeader(source),
    ]);
    expect(exported.format).toBe('metaimage');
    expect(exported.shape).toEqual(original.shape);
    expect(exported.spacing).toEqual(original.spacing);
    expect(exported.origin).toEqual(original.origin);
    expect(exported.direction).toEqual(original.direction);
    expect((await openVolume(join(folder, `${val[0]}.mhd`))).readFrame(0).data).toBeInstanceOf(Uint8Array);
  }, 120_000);

  it('writes the network in TensorFlow.js format with its genome, and it loads back', async () => {
    const folder = temp.make();
    const { files } = await exportModel(ref, folder);
    expect(files.map((f) => basename(f)).sort()).toEqual([
      'emonas-model.json',
      'genome.json',
      'model.json',
      'weights.bin',
    ]);
    const review = await reviewCandidate(ref);
    expect(JSON.parse(readFileSync(join(folder, 'genome.json'), 'utf8'))).toEqual(review.genome);
    const model = await loadModel(folder);
    expect(model.countParams()).toBe(review.params);
    model.dispose();
  });

  it('writes a self-contained HTML report with both plots, failure pictures and no way out', async () => {
    const { files } = await exportReport(ref);
    expect(files).toEqual([join(ref.runDir, 'report.html')]);
    const html = readFileSync(files[0]!, 'utf8');
    for (const section of [
      'configuration',
      'dataset',
      'pareto-plot',
      'hypervolume-plot',
      'per-structure',
      'per-case',
      'failures',
      'definitions',
      'software',
    ]) {
      expect(html, section).toContain(`id="${section}"`);
    }
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(?!data:)/i);
    expect(html).toContain("default-src 'none'");
    for (const id of dataset.ids.slice(0, 2)) expect(html).toContain(id);
    // The HD95 in use is defined once, under hd95, not again under its variant's name.
    expect(html).toContain('<dt>hd95</dt>');
    expect(html).not.toContain('<dt>hd95Pooled</dt>');
    expect(html).toContain('<dt>hd95MaxDirected</dt>');
    const pictures = [...html.matchAll(/src="data:image\/png;base64,([^"]+)" width="(\d+)" height="(\d+)"/g)];
    expect(pictures).toHaveLength(2);
    for (const [, base64, width, height] of pictures) {
      const png = Buffer.from(base64!, 'base64');
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(Number(width));
      expect(png.readUInt32BE(20)).toBe(Number(height));
      const idat = png.indexOf('IDAT');
      const length = png.readUInt32BE(idat - 4);
      const rows = unzlibSync(png.subarray(idat + 4, idat + 4 + length));
      expect(rows.length).toBe(Number(height) * (Number(width) * 4 + 1));
    }
    const bad = await rejection(exportReport(ref, join(temp.make(), 'report.txt')));
    expect(bad.code).toBe('bad_request');
  }, 60_000);

  it('still reports a run whose chosen candidate has no trained network, saying so', async () => {
    const file = join(temp.make(), 'untrained.html');
    await exportReport(untrained, file);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('id="pareto-plot"');
    expect(html).toContain(`Candidate ${untrained.candidateId} has no trained network`);
    expect(html).not.toContain('id="per-case"');
  });
});

describe('exports never replace a file unless asked', () => {
  it('refuses to replace a report, replaces it with overwrite, and never creates its folder', async () => {
    const file = join(temp.make(), 'kept.html');
    writeFileSync(file, 'mine');
    const refused = await rejection(exportReport(untrained, file));
    expect(refused).toMatchObject({ code: 'exists', file });
    expect(refused.message).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    await exportReport(untrained, file, true);
    expect(readFileSync(file, 'utf8')).toContain('id="pareto-plot"');

    const parent = join(temp.make(), 'no', 'such');
    const missing = await rejection(exportReport(untrained, join(parent, 'r.html')));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain(`The folder ${parent} does not exist`);
    expect(existsSync(parent)).toBe(false);
    const underFile = await rejection(exportReport(untrained, join(file, 'r.html')));
    expect(underFile.code).toBe('bad_request');
    expect(underFile.message).toContain(`${file} is a file, not a folder`);
  });

  it('answers the app with a typed error in words and logs no stack trace', async () => {
    const dataDir = temp.make();
    const runId = 'run-refuse';
    const runDir = join(dataDir, 'runs', runId);
    const { front } = await writeFormulaRun(runDir);
    const candidateId = front[0]!.id;
    const logged: string[] = [];
    const engine = createEngine({ dataDir, log: (m) => logged.push(m) });
    const first = await engine.call('report.export', { runId, candidateId });
    expect(first.ok).toBe(true);
    const second = await engine.call('report.export', { runId, candidateId });
    expect(second).toMatchObject({ ok: false, error: { code: 'exists', file: join(runDir, 'report.html') } });
    const third = await engine.call('report.export', { runId, candidateId, overwrite: true });
    expect(third.ok).toBe(true);
    const impossible = await engine.call('report.export', {
      runId,
      candidateId,
      file: '/proc/no-such-folder/report.html',
    });
    expect(impossible).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(!impossible.ok && impossible.error.message).toContain('/proc/no-such-folder does not exist');
    await engine.close();
    expect(logged.filter((m) => m.includes('    at '))).toEqual([]);
  });
});

describe("an ACDC patient's cine", () => {
  it('gives one slice through every frame with the ED and ES frames of Info.cfg', async () => {
    const acdc = await writeSyntheticAcdc(temp.make(), 1);
    const manifest = await inspectDataset(acdc.root);
    const entry = manifest.cases.find((c) => c.id === 'patient001_ES')!;
    const scope = { root: acdc.root, allowLinks: false };
    const slice = await cineSlice(entry, 3, scope);
    expect(slice).toMatchObject({ frames: 10, ed: 1, es: 6, slice: 3, slices: 8, width: 48, height: 48 });
    expect(slice.spacing).toEqual([1.5625, 1.5625]);
    const cine = await openVolume(entry.cine!);
    for (const t of [0, 5, 9]) {
      const frame = cine.readFrame(t).data;
      const plane = 48 * 48;
      expect(Array.from(slice.data.subarray(t * plane, (t + 1) * plane))).toEqual(
        Array.from(frame.subarray(3 * plane, 4 * plane), Number),
      );
    }
    expect((await rejection(cineSlice(entry, 8, scope))).code).toBe('bad_request');
    const msd = (await inspectDataset(dataset.root)).cases[0]!;
    expect((await rejection(cineSlice(msd, 0, { root: dataset.root, allowLinks: false }))).code).toBe(
      'not_found',
    );
  });

  it('keeps the folder listing of a review to the predictions and their index', async () => {
    const names = await readdir(join(candidateFolder(ref), REVIEW_FILES.predictions));
    expect(names.sort()).toEqual(
      [...dataset.ids.slice(0, 2).map((id) => `${id}.nii.gz`), 'index.json'].sort(),
    );
    expect(existsSync(join(candidateFolder(ref), REVIEW_FILES.metrics))).toBe(true);
  });
});

describe('through the engine (the API the app calls)', () => {
  it("reviews an ACDC candidate with progress events, its cases' cine, and refuses unknown runs", async () => {
    const dataDir = temp.make();
    const acdc = await writeSyntheticAcdc(temp.make(), 2);
    const runId = 'run-acdc';
    const runDir = join(dataDir, 'runs', runId);
    const { front } = await writeFormulaRun(runDir);
    const chosen = [...front].sort((a, b) => a.params - b.params)[0]!;
    await writeCandidateModel(join(runDir, 'candidates', chosen.id), acdc.root, {
      genome: chosen.genome,
      val: ['patient002_ED', 'patient002_ES'],
    });
    const engine = createEngine({ dataDir, log: () => undefined });
    const progress: number[] = [];
    engine.on('review.progressed', (p) => {
      if (p.runId === runId && p.candidateId === chosen.id) progress.push(p.done);
    });
    const review = await engine.call('candidate.review', { runId, candidateId: chosen.id });
    if (!review.ok) throw new Error(review.error.message);
    expect(review.value.datasetKind).toBe('acdc');
    expect(review.value.cases.map((c) => c.phase).sort()).toEqual(['ED', 'ES']);
    expect(Object.keys(review.value.structures)).toEqual(['RV', 'Myo', 'LV']);
    await engine.close();
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(2);

    const c = await engine.call('review.case', { runId, candidateId: chosen.id, caseId: 'patient002_ES' });
    if (!c.ok) throw new Error(c.error.message);
    expect(c.value.cine).toEqual({ frames: 10, ed: 1, es: 5 });
    expect(c.value.image.spacing).toEqual([1.5625, 1.5625, 10]);
    const cine = await engine.call('review.cine', {
      runId,
      candidateId: chosen.id,
      caseId: 'patient002_ES',
      slice: 4,
    });
    expect(cine.ok && [cine.value.frames, cine.value.slice, cine.value.data.length]).toEqual([
      10,
      4,
      10 * 48 * 48,
    ]);

    const missing = await engine.call('candidate.review', { runId: 'run-none', candidateId: chosen.id });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const bad = await engine.call('review.case', { runId, candidateId: '../escape', caseId: 'x' });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'bad_request', details: { field: 'candidateId' } },
    });
    const report = await engine.call('report.export', { runId, candidateId: chosen.id });
    expect(report.ok && report.value.files).toEqual([join(runDir, 'report.html')]);
  }, 120_000);
});
