// Runs in: the engine. A run's model applied to new scans without labels: image files, or every image of a
// folder, predicted in a worker process (review-predictions.ts) into one folder, each written under its own
// name in its source's format and geometry (a 4D cine frame by frame), with the volume of every predicted
// structure. A file that cannot be predicted is named with the reason and the others are still written;
// existing files are replaced only when asked (export-target.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { AppliedScan, AppliedScans } from '../api/finish.ts';
import type { ReviewProblem } from '../api/review.ts';
import { toErrorData } from '../base/errors.ts';
import { IMAGE_EXTENSIONS, openVolume, readVolume, writeVolume } from '../io/volume-files.ts';
import { readModelCard } from '../train/model-card.ts';
import { prepareExportFolder, requireAbsolute } from './export-target.ts';
import { postprocessingStatus } from './postprocessing-status.ts';
import { listInputImages } from '../train/predict/input-images.ts';
import { predictInWorker, REVIEW_FILES } from './review-predictions.ts';
import type { PredictionLauncher } from './review-worker-serve.ts';
import { requireModelFolder } from './run-model.ts';

export interface ApplyRequest {
  /** A model folder: a run's final/ or a candidate's folder (runModelDir), or one `emonas train` wrote. */
  modelDir: string;
  /** Image files or folders of images, full paths. */
  inputs: string[];
  folder: string;
  overwrite?: boolean;
}

export interface ApplyHooks {
  onProgress?: (done: number, total: number, file: string) => void;
  /** Starts the prediction worker: the host's launcher; absent, it is forked. */
  launchPrediction?: PredictionLauncher;
}

/** The image files the inputs name; an input that holds none is a failure, not the end of the request. */
async function expandInputs(inputs: string[]): Promise<{ files: string[]; failures: ReviewProblem[] }> {
  const files: string[] = [];
  const failures: ReviewProblem[] = [];
  const names = new Set<string>();
  for (const input of inputs) {
    let found: string[];
    try {
      found = await listInputImages(requireAbsolute(input, 'scan'));
    } catch (err) {
      const error = toErrorData(err);
      failures.push({ file: error.file ?? input, message: error.message });
      continue;
    }
    for (const file of found) {
      // Outputs take the images' own names, so two inputs of one name cannot both be written.
      if (names.has(basename(file))) {
        failures.push({
          file,
          message: `${file} has the same name as another scan given; its prediction would replace that one's. Apply it separately.`,
        });
        continue;
      }
      names.add(basename(file));
      files.push(resolve(file));
    }
  }
  return { files, failures };
}

/** Millilitres of each structure of a predicted label map: voxels times the voxel's volume in mm³ / 1000. */
async function structureVolumes(
  file: string,
  labels: { value: number; name: string }[],
): Promise<Record<string, number>> {
  const volume = await readVolume(file);
  const voxelMl = Math.abs(volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  const counts = new Map<number, number>();
  for (const v of volume.data) counts.set(v, (counts.get(v) ?? 0) + 1);
  const out: Record<string, number> = {};
  for (const { value, name } of labels) if (value !== 0) out[name] = (counts.get(value) ?? 0) * voxelMl;
  return out;
}

/** One 3D image the worker predicts: a scan, or one frame of a 4D series (written to a temporary file). */
interface Unit {
  key: string;
  source: string;
  frame?: number;
  input: string;
  output: string;
}

function extensionOf(file: string): string {
  const lower = file.toLowerCase();
  return [...IMAGE_EXTENSIONS].sort((a, b) => b.length - a.length).find((ext) => lower.endsWith(ext)) ?? '';
}

/**
 * The images the worker predicts. A 4D series (an ACDC cine) becomes one image per frame, written as ACDC
 * names its frames (<name>_frame01.nii.gz, 1-based) on the frame's own grid; a file whose header cannot be
 * read is a failure here already.
 */
async function unitsOf(
  files: string[],
  folder: string,
  scratch: string,
  failures: ReviewProblem[],
): Promise<Unit[]> {
  const units: Unit[] = [];
  for (const file of files) {
    let opened;
    try {
      opened = await openVolume(file);
    } catch (err) {
      const { message } = toErrorData(err);
      failures.push({ file, message: message.includes(basename(file)) ? message : `${file}: ${message}` });
      continue;
    }
    const frames = opened.header.frames;
    if (frames === 1) {
      units.push({ key: file, source: file, input: file, output: join(folder, basename(file)) });
      continue;
    }
    const ext = extensionOf(file);
    const stem = basename(file).slice(0, basename(file).length - ext.length);
    for (let t = 0; t < frames; t++) {
      const name = `${stem}_frame${String(t + 1).padStart(2, '0')}${ext}`;
      const input = join(scratch, name);
      await writeVolume(input, opened.readFrame(t));
      units.push({ key: `${file}#${t + 1}`, source: file, frame: t + 1, input, output: join(folder, name) });
    }
  }
  return units;
}

export async function applyToScans(request: ApplyRequest, hooks: ApplyHooks = {}): Promise<AppliedScans> {
  const modelDir = requireModelFolder(request.modelDir);
  const folder = requireAbsolute(request.folder, 'output folder');
  const card = await readModelCard(modelDir);
  const postprocessing = postprocessingStatus(card, true);
  const { files, failures } = await expandInputs(request.inputs);
  if (files.some((file) => resolve(file, '..') === folder)) {
    failures.push({
      file: folder,
      message: `The output folder ${folder} holds scans given as input; their predictions would take the same names. Choose another folder.`,
    });
    return { modelDir, folder, scans: [], failures, postprocessing };
  }
  const scratch = await mkdtemp(join(tmpdir(), 'emonas-apply-'));
  try {
    const units = await unitsOf(files, folder, scratch, failures);
    await prepareExportFolder(
      folder,
      units.map((u) => basename(u.output)),
      request.overwrite === true,
    );
    const written = new Set<string>();
    let done = 0;
    if (units.length > 0) {
      await predictInWorker(
        { modelDir, images: units.map((u) => ({ caseId: u.key, input: u.input, output: u.output })) },
        join(modelDir, REVIEW_FILES.workerLog),
        (report) => {
          const unit = units.find((u) => u.key === report.caseId);
          if (!unit) return;
          if (report.type === 'predicted') written.add(unit.key);
          else {
            const { message } = report.error;
            const where = unit.frame === undefined ? unit.source : `${unit.source} (frame ${unit.frame})`;
            failures.push({
              file: unit.source,
              message: message.includes(basename(unit.source)) ? message : `${where}: ${message}`,
            });
          }
          hooks.onProgress?.(++done, units.length, unit.source);
        },
        hooks.launchPrediction,
      );
    }
    const scans: AppliedScan[] = [];
    for (const unit of units.filter((u) => written.has(u.key))) {
      scans.push({
        input: unit.source,
        ...(unit.frame !== undefined && { frame: unit.frame }),
        output: unit.output,
        volumesMl: await structureVolumes(unit.output, card.plan.labels),
      });
    }
    return { modelDir, folder, scans, failures, postprocessing };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
