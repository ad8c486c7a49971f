// Runs in: the engine (checks a model folder before a training starts from it) and a training worker
// (reads the weights it starts from). The final training starts from its search candidate's best weights
// rather than a random initialisation: the folder must hold the same genome's network with the same output
// channels, and the worker must start from the very bytes the engine checked and recorded.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { countParams } from '../nn/param-count.ts';
import { MODEL_FILE, WEIGHTS_FILE } from '../nn/save-load.ts';
import { genomeToJson } from '../searchspace/genome-json.ts';
import type { Genome } from '../searchspace/genome.ts';
import type { SavedTensor } from './checkpoint.ts';
import { outputChannels, type InitialWeights } from './job.ts';
import { MODEL_CARD_FILE, readModelCard } from './model-card.ts';

interface ManifestEntry {
  name?: unknown;
  shape?: unknown;
  dtype?: unknown;
  quantization?: unknown;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readBytes(path: string, what: string): Buffer {
  if (!existsSync(path)) {
    throw new EmonasError('not_found', `${path} is missing: the folder has no ${what} to start from.`, {
      file: path,
    });
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EmonasError(
      'unreadable_file',
      `${path} could not be read (${err instanceof Error ? err.message : String(err)}).`,
      { file: path, cause: err },
    );
  }
}

/** The float32 tensors model.json lists, in its order (the network's own, as saveModel writes them). */
function manifestShapes(dir: string): number[][] {
  const path = join(dir, MODEL_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readBytes(path, 'network description').toString('utf8'));
  } catch (err) {
    if (err instanceof EmonasError) throw err;
    throw new EmonasError('unreadable_file', `${path} is not valid JSON; the file is damaged.`, {
      file: path,
    });
  }
  const groups = (json as { weightsManifest?: unknown } | null)?.weightsManifest;
  const group = Array.isArray(groups) && groups.length === 1 ? (groups[0] as Record<string, unknown>) : null;
  const paths = group?.paths;
  const entries = group?.weights;
  if (
    !Array.isArray(paths) ||
    paths.length !== 1 ||
    paths[0] !== WEIGHTS_FILE ||
    !Array.isArray(entries) ||
    !entries.every(
      (e: ManifestEntry) =>
        e?.dtype === 'float32' &&
        e.quantization === undefined &&
        Array.isArray(e.shape) &&
        e.shape.every((d) => Number.isInteger(d) && (d as number) >= 0),
    )
  ) {
    throw new EmonasError(
      'unsupported_format',
      `${path} does not describe float32 weights in one ${WEIGHTS_FILE}, as Emonas Studio saves a network.`,
      { file: path },
    );
  }
  return (entries as { shape: number[] }[]).map((e) => [...e.shape]);
}

/** The folder's weights as tensors in the network's order, and the SHA-256 of its weights.bin. */
export function readInitialTensors(dir: string): { tensors: SavedTensor[]; sha256: string } {
  const shapes = manifestShapes(dir);
  const path = join(dir, WEIGHTS_FILE);
  const bytes = readBytes(path, 'weights');
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const expected = sizes.reduce((a, b) => a + b, 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new EmonasError(
      'unreadable_file',
      `${path} holds ${bytes.byteLength} bytes but ${MODEL_FILE} next to it describes ${expected}; the folder ` +
        'is incomplete or mixes two saves.',
      { file: path },
    );
  }
  // A copy: a Buffer's offset in its pool need not be a multiple of 4.
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  const tensors = shapes.map((shape, i) => {
    const size = sizes[i] as number;
    const tensor = { name: `initial_${i}`, shape, values: values.subarray(at, at + size) };
    at += size;
    return tensor;
  });
  return { tensors, sha256: sha256(bytes) };
}

/**
 * Checks, without building the network, that `dir` holds `genome`'s network with `channels` output channels
 * (its emonas-model.json's genome and head, and as many weights as the genome's network has), and names
 * what the training starts from. The worker then matches every tensor's shape (`initialWeightsMismatch`).
 */
export async function checkInitialWeights(
  dir: string,
  genome: Genome,
  task: { inChannels: number; classes: number },
  source: string,
): Promise<InitialWeights> {
  const cardFile = join(dir, MODEL_CARD_FILE);
  if (!existsSync(cardFile)) {
    throw new EmonasError('not_found', `${cardFile} is missing: ${dir} is not a trained model folder.`, {
      file: cardFile,
    });
  }
  const card = await readModelCard(dir);
  if (JSON.stringify(genomeToJson(card.genome)) !== JSON.stringify(genomeToJson(genome))) {
    throw new EmonasError(
      'bad_request',
      `${cardFile} records the genome ${JSON.stringify(genomeToJson(card.genome))}, not ` +
        `${JSON.stringify(genomeToJson(genome))}: its weights belong to another network.`,
      { file: cardFile },
    );
  }
  const channels = outputChannels(card.plan.head, card.plan.labels.length);
  if (channels !== task.classes) {
    throw new EmonasError(
      'bad_request',
      `${cardFile} describes a network with ${channels} output channels, not ${task.classes}: it was trained ` +
        'for other labels.',
      { file: cardFile },
    );
  }
  const { tensors, sha256: hash } = readInitialTensors(dir);
  const found = tensors.reduce((n, t) => n + t.values.length, 0);
  const params = countParams(genome, task);
  if (found !== params) {
    throw new EmonasError(
      'bad_request',
      `${join(dir, WEIGHTS_FILE)} holds ${found} weights, but the network of its genome has ${params}: they ` +
        'were saved from another network.',
      { file: join(dir, WEIGHTS_FILE) },
    );
  }
  return { modelDir: dir, source, sha256: hash };
}

/**
 * Why the folder's tensors cannot be the network's weights (the hash changed since the engine checked it,
 * or a tensor's shape differs), or null when they fit: `shapes` are the network's weights, in order.
 */
export function initialWeightsMismatch(
  initial: InitialWeights,
  read: { tensors: SavedTensor[]; sha256: string },
  shapes: number[][],
): EmonasError | null {
  const file = join(initial.modelDir, WEIGHTS_FILE);
  if (read.sha256 !== initial.sha256) {
    return new EmonasError(
      'conflict',
      `${file} changed after the training was set up to start from it (SHA-256 ${read.sha256}, not ` +
        `${initial.sha256}); start the training again.`,
      { file },
    );
  }
  const differs = shapes.findIndex((shape, i) => read.tensors[i]?.shape.join() !== shape.join());
  if (read.tensors.length !== shapes.length || differs >= 0) {
    const at = differs >= 0 ? differs : Math.min(read.tensors.length, shapes.length);
    return new EmonasError(
      'bad_request',
      `${file} does not fit the network: its tensor ${at + 1} has shape [${read.tensors[at]?.shape.join(', ') ?? 'none'}] ` +
        `where the network has [${shapes[at]?.join(', ') ?? 'none'}] (${read.tensors.length} tensors for ` +
        `${shapes.length}).`,
      { file },
    );
  }
  return null;
}
