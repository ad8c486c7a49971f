// Runs in: the engine. What leaves a run for use elsewhere, as plain functions on JSON-able data: a
// candidate's validation predictions in the dataset's own file format and geometry, the trained network
// (TensorFlow.js format plus its genome as JSON), and the self-contained HTML run report.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ExportedFiles } from '../api/review.ts';
import { EmonasError } from '../base/errors.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../nn/save-load.ts';
import { failurePicture } from '../report/failure-picture.ts';
import { encodePng, pngDataUrl } from '../report/png.ts';
import { renderRunReport, type ReportFailure, type RunReportData } from '../report/run-report.ts';
import { readJournal } from '../runs/journal.ts';
import { RUN_FILES, readRunManifest } from '../runs/run-folder.ts';
import { frontOf } from '../search/archive.ts';
import { MODEL_CARD_FILE } from '../train/model-card.ts';
import { candidateFolder, openCandidate, readCandidateSplit, type CandidateRef } from './review-candidate.ts';
import { ensurePredictions } from './review-predictions.ts';
import { reviewCandidate, reviewCase } from './review.ts';
import { archiveFromJournal, listRuns } from './search.ts';

/** How many of the worst validation cases the report pictures. */
const FAILURE_CASES = 3;

function requireAbsolute(path: string, what: string): string {
  if (!isAbsolute(path)) {
    throw new EmonasError(
      'bad_request',
      `The ${what} '${path}' is not a full path; give it from the top, e.g. /home/me/exports.`,
      { file: path },
    );
  }
  return resolve(path);
}

/** Creates the folder; refuses to overwrite any of the files about to be written there. */
async function prepareFolder(folder: string, names: string[]): Promise<void> {
  await mkdir(folder, { recursive: true });
  const taken = names.find((name) => existsSync(join(folder, name)));
  if (taken !== undefined) {
    throw new EmonasError(
      'conflict',
      `${join(folder, taken)} already exists and would be overwritten; choose an empty folder for the export.`,
      { file: join(folder, taken) },
    );
  }
}

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
 * exactly on top of its scan. Predictions not made yet are made first.
 */
export async function exportPredictions(ref: CandidateRef, folder: string): Promise<ExportedFiles> {
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
  await prepareFolder(
    target,
    sources.map((f) => basename(f)),
  );
  const written: string[] = [];
  for (const source of sources) {
    const out = join(target, basename(source));
    await copyFile(source, out);
    written.push(out);
  }
  return { folder: target, files: written };
}

/** Writes the trained network (model.json, weights.bin), its model card and genome.json into `folder`. */
export async function exportModel(ref: CandidateRef, folder: string): Promise<ExportedFiles> {
  const target = requireAbsolute(folder, 'export folder');
  const opened = await openCandidate(ref);
  const names = [MODEL_FILE, WEIGHTS_FILE, MODEL_CARD_FILE];
  await prepareFolder(target, [...names, 'genome.json']);
  const written: string[] = [];
  for (const name of names) {
    await copyFile(join(opened.dir, name), join(target, name));
    written.push(join(target, name));
  }
  const genomeFile = join(target, 'genome.json');
  await writeFile(genomeFile, JSON.stringify(opened.card.genome, null, 2) + '\n');
  written.push(genomeFile);
  return { folder: target, files: written };
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
    software: manifest.software,
    notes,
  };
}

/** Writes the run's HTML report about the chosen candidate (by default report.html in the run folder). */
export async function exportReport(ref: CandidateRef, file?: string): Promise<ExportedFiles> {
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
  const html = renderRunReport(await runReportData(ref));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, html);
  return { folder: dirname(target), files: [target] };
}
