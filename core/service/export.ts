// Runs in: the engine. What leaves a run for use elsewhere, as plain functions on JSON-able data: a
// candidate's validation predictions in the dataset's own file format and geometry, the trained network
// (TensorFlow.js format plus its genome as JSON, or a PyTorch module or ONNX through core/export), and the
// self-contained HTML run report.
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ExportedFiles, ModelExportFormat } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import { exportNetwork } from '../export/export-network.ts';
import { writeFileAtomic } from '../io/files.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../nn/save-load.ts';
import { failurePicture } from '../report/failure-picture.ts';
import { encodePng, pngDataUrl } from '../report/png.ts';
import { renderRunReport, type ReportFailure, type RunReportData } from '../report/run-report.ts';
import { readJournal } from '../runs/journal.ts';
import { RUN_FILES, readRunManifest, softwareVersions } from '../runs/run-folder.ts';
import { archiveFromJournal, listRuns } from '../runs/run-summary.ts';
import { frontOf } from '../search/archive.ts';
import { selectBackend } from '../train/backend.ts';
import { WHOLE_CASE_FACTOR } from '../train/inference.ts';
import { MODEL_CARD_FILE, readModelCard } from '../train/model-card.ts';
import { keptLabels } from '../train/postprocess-decision.ts';
import { candidateFolder, openCandidate, readCandidateSplit, type CandidateRef } from './review-candidate.ts';
import { prepareExportFile, prepareExportFolder, requireAbsolute } from './export-target.ts';
import { ensurePredictions } from './review-predictions.ts';
import { reviewCandidate, reviewCase } from './review.ts';
import { cachedTestEvaluation } from './test-evaluation.ts';

/** How many of the worst validation cases the report pictures. */
const FAILURE_CASES = 3;

/** A MetaImage header's separate voxel file (its ElementDataFile), which must travel with it. */
async function companions(file: string): Promise<string[]> {
  if (!file.toLowerCase().endsWith('.mhd')) return [];
  const header = await readFile(file, 'utf8');
  const data = /^\s*ElementDataFile\s*=\s*(.+?)\s*$/m.exec(header)?.[1];
  return data && data !== 'LOCAL' ? [join(dirname(file), data)] : [];
}

/**
 * Writes the candidate's predictions of its validation cases into `folder`, each named like its image and in
 * its image's format and geometry (NIfTI header fields or MetaImage geometry of the source), so each opens
 * exactly on top of its scan. Predictions not made yet are made first. Existing files are kept unless
 * `overwrite`.
 */
export async function exportPredictions(
  ref: CandidateRef,
  folder: string,
  overwrite = false,
): Promise<ExportedFiles> {
  const target = requireAbsolute(folder, 'export folder');
  const opened = await openCandidate(ref);
  const { files, problems } = await ensurePredictions(
    opened,
    opened.validation.map((c) => c.id),
  );
  if (problems.length > 0) {
    const first = problems[0];
    throw new EmonasError(
      'internal',
      `${problems.length} validation case(s) of candidate ${ref.candidateId} could not be predicted, so nothing was exported: ${first?.message}`,
      { file: first?.file ?? opened.dir },
    );
  }
  const sources: string[] = [];
  for (const file of files.values()) sources.push(file, ...(await companions(file)));
  await prepareExportFolder(
    target,
    sources.map((f) => basename(f)),
    overwrite,
  );
  const written: string[] = [];
  for (const source of sources) {
    const out = join(target, basename(source));
    await copyFile(source, out);
    written.push(out);
  }
  return { folder: target, files: written };
}

/**
 * Writes a trained model folder's network into `folder` as `format`: tfjs copies model.json, weights.bin and
 * the model card and adds genome.json; pytorch and onnx convert it (core/export) and add a README of the
 * preprocessing. Nothing is written when any of the files already exists there, unless `overwrite`.
 */
export async function exportModelFolder(
  modelDir: string,
  format: ModelExportFormat,
  folder: string,
  overwrite = false,
): Promise<ExportedFiles> {
  const target = requireAbsolute(folder, 'export folder');
  const card = await readModelCard(modelDir);
  if (format !== 'tfjs') {
    await selectBackend();
    // Converted before the folder is made, so a network that cannot be exported leaves nothing behind.
    const { plan } = card;
    const kept = card.postprocessing ? keptLabels(card.postprocessing) : [];
    const files = await exportNetwork(
      modelDir,
      {
        genome: card.genome,
        dataset: plan.dataset,
        labels: plan.labels,
        head: plan.head,
        axisOrder: plan.axisOrder,
        targetSpacing: plan.targetSpacing,
        normalisation: plan.normalisation,
        patch: plan.patch,
        wholeCaseFactor: WHOLE_CASE_FACTOR,
        params: card.params,
        valDice: card.valDice,
        createdAt: card.createdAt,
        version: softwareVersions()['emonas-studio'] ?? 'unknown',
        ...(kept.length > 0 && card.postprocessing
          ? { largestComponent: { labels: kept, connectivity: card.postprocessing.connectivity } }
          : {}),
      },
      format,
    );
    await prepareExportFolder(
      target,
      files.map((f) => f.name),
      overwrite,
    );
    const written: string[] = [];
    for (const file of files) {
      await writeFileAtomic(join(target, file.name), file.bytes);
      written.push(join(target, file.name));
    }
    return { folder: target, files: written };
  }
  const names = [MODEL_FILE, WEIGHTS_FILE, MODEL_CARD_FILE];
  await prepareExportFolder(target, [...names, 'genome.json'], overwrite);
  const written: string[] = [];
  for (const name of names) {
    await copyFile(join(modelDir, name), join(target, name));
    written.push(join(target, name));
  }
  const genomeFile = join(target, 'genome.json');
  await writeFile(genomeFile, JSON.stringify(card.genome, null, 2) + '\n');
  written.push(genomeFile);
  return { folder: target, files: written };
}

/** A run's trained candidate exported as `format` (see exportModelFolder). */
export async function exportModel(
  ref: CandidateRef,
  folder: string,
  format: ModelExportFormat = 'tfjs',
  overwrite = false,
): Promise<ExportedFiles> {
  const opened = await openCandidate(ref);
  return exportModelFolder(opened.dir, format, folder, overwrite);
}

function generations(runDir: string): RunReportData['generations'] {
  const { records } = readJournal(join(runDir, RUN_FILES.journal));
  const out: RunReportData['generations'] = [];
  for (const r of records) {
    if (r.t !== 'decision' || r.request.kind !== 'log') continue;
    const { event, generation, evaluated, hypervolume } = r.request.record;
    if (event === 'generation' && typeof generation === 'number' && typeof hypervolume === 'number') {
      out.push({ generation, evaluated: typeof evaluated === 'number' ? evaluated : 0, hypervolume });
    }
  }
  return out;
}

async function failures(
  ref: CandidateRef,
  review: NonNullable<RunReportData['review']>,
): Promise<ReportFailure[]> {
  const out: ReportFailure[] = [];
  for (const c of review.cases.slice(0, FAILURE_CASES)) {
    const volumes = await reviewCase(ref, c.id);
    const picture = failurePicture(volumes.image, volumes.label, volumes.prediction);
    out.push({
      caseId: c.id,
      meanDice: c.meanDice,
      slice: picture.slice,
      wrongVoxels: picture.wrongVoxels,
      picture: pngDataUrl(encodePng(picture.width, picture.height, picture.rgba)),
      width: picture.width,
      height: picture.height,
      panels: picture.panels,
    });
  }
  return out;
}

/** The test evaluations made so far of the final model and the chosen candidate; none is made here. */
async function testEvaluations(ref: CandidateRef): Promise<RunReportData['testEvaluations']> {
  const found = await Promise.all(
    ['final', ref.candidateId].map((model) => cachedTestEvaluation(ref.runDir, ref.runId, model)),
  );
  return found.filter((t) => t !== null);
}

/** Everything the report shows, gathered from the run folder and the chosen candidate's review. */
export async function runReportData(ref: CandidateRef): Promise<RunReportData> {
  const manifest = readRunManifest(ref.runDir);
  const summary = listRuns({ root: dirname(ref.runDir) }).find((r) => r.runDir === resolve(ref.runDir));
  const archive = archiveFromJournal(ref.runDir);
  const chosenEntry = archive.find((e) => e.spec.id === ref.candidateId);
  if (!chosenEntry) {
    throw new EmonasError(
      'not_found',
      `Run ${ref.runId} has no evaluated candidate ${ref.candidateId}; pick one from the run's front.`,
      { file: join(ref.runDir, RUN_FILES.journal) },
    );
  }
  const onFront = new Set(frontOf(archive).map((e) => e.spec.id));
  const notes: string[] = [];
  let review: RunReportData['review'] = null;
  let dataset: RunReportData['dataset'] = null;
  let failed: ReportFailure[] = [];
  if (existsSync(join(candidateFolder(ref), MODEL_CARD_FILE))) {
    review = await reviewCandidate(ref);
    failed = await failures(ref, review);
    const split = await readCandidateSplit(candidateFolder(ref), ref);
    dataset = {
      kind: review.datasetKind,
      root: review.datasetRoot,
      labels: review.labels,
      split: { train: split.train.length, val: split.val, test: split.test.length, seed: split.seed },
    };
  } else {
    notes.push(
      `Candidate ${ref.candidateId} has no trained network in this run folder, so the report has no per-case metrics or failure cases for it.`,
    );
  }
  const reference = (manifest.search as { hypervolumeReference?: unknown }).hypervolumeReference;
  return {
    generatedAt: new Date().toISOString(),
    run: {
      id: manifest.id,
      createdAt: manifest.createdAt,
      algorithm: manifest.search.algorithm,
      problem: String(manifest.problem.kind ?? 'unknown'),
      evaluated: summary?.evaluated ?? archive.length,
      failed: summary?.failed ?? archive.filter((e) => e.failed).length,
      finished: summary?.finished ?? false,
      stoppedAtBudget: summary?.stoppedAtBudget ?? null,
      cancelled: summary?.cancelled ?? false,
    },
    configuration: manifest.search as unknown as Record<string, unknown>,
    problemSettings: manifest.problem,
    dataset,
    candidates: archive
      .filter((e) => !e.failed)
      .map((e) => ({
        id: e.spec.id,
        params: e.spec.params,
        f1: e.f1,
        onFront: onFront.has(e.spec.id),
        chosen: e.spec.id === ref.candidateId,
      })),
    generations: generations(ref.runDir),
    hypervolumeReference:
      Array.isArray(reference) && reference.length === 2 ? (reference as [number, number]) : null,
    chosen: {
      id: chosenEntry.spec.id,
      generation: chosenEntry.spec.generation,
      genome: chosenEntry.spec.genome,
      params: chosenEntry.spec.params,
      f1: chosenEntry.failed ? null : chosenEntry.f1,
      valLoss: chosenEntry.outcome.status === 'completed' ? (chosenEntry.outcome.valLoss ?? null) : null,
    },
    review,
    failures: failed,
    testEvaluations: await testEvaluations(ref),
    software: manifest.software,
    notes,
  };
}

/**
 * Writes the run's HTML report about the chosen candidate (by default report.html in the run folder). An
 * existing file is replaced only when `overwrite`; the file's folder must exist.
 */
export async function exportReport(
  ref: CandidateRef,
  file?: string,
  overwrite = false,
): Promise<ExportedFiles> {
  const target = file === undefined ? join(ref.runDir, 'report.html') : requireAbsolute(file, 'report file');
  if (!target.toLowerCase().endsWith('.html')) {
    throw new EmonasError(
      'bad_request',
      `The report file ${target} must end in .html so a browser opens it.`,
      {
        file: target,
      },
    );
  }
  prepareExportFile(target, overwrite);
  const html = renderRunReport(await runReportData(ref));
  await writeFileAtomic(target, html);
  return { folder: dirname(target), files: [target] };
}
