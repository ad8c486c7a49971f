// Runs in: any process. The one entry point for image files: the format is chosen by extension (.nii,
// .nii.gz, .mhd, .mha) and every reader and writer answers in Volumes and VolumeHeaders.
import { EmonasError } from '../base/errors.ts';
import type { ReadOptions } from './file-scope.ts';
import { nameOf } from './files.ts';
import { openMetaImageFile, readMetaImageHeader, verifyMetaImageFile } from './metaimage-read.ts';
import { writeMetaImage } from './metaimage-write.ts';
import { openNiftiFile, readNiftiHeader, verifyNiftiFile } from './nifti-read.ts';
import { writeNifti } from './nifti-write.ts';
import type { VolumeFile, VolumeHeader } from './volume-header.ts';
import type { Volume, VoxelType } from './volume.ts';

export type FileKind = 'nifti' | 'metaimage';

export const IMAGE_EXTENSIONS = ['.nii', '.nii.gz', '.mhd', '.mha'] as const;

export function fileKindOf(file: string): FileKind {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return 'nifti';
  if (lower.endsWith('.mhd') || lower.endsWith('.mha')) return 'metaimage';
  throw new EmonasError(
    'unsupported_format',
    `${nameOf(file)} is not a supported image file: use NIfTI (${IMAGE_EXTENSIONS.slice(0, 2).join(', ')}) or MetaImage (${IMAGE_EXTENSIONS.slice(2).join(', ')}).`,
    { file },
  );
}

/**
 * Geometry and voxel type without decoding voxels (cheap enough for hundreds of files). Every reader here
 * takes ReadOptions: with a scope, the file and any file it names must lie inside it (see file-scope.ts).
 */
export async function readVolumeHeader(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  return fileKindOf(file) === 'nifti' ? readNiftiHeader(file, options) : readMetaImageHeader(file, options);
}

/**
 * The header of a file whose voxel data was read through (and decompressed) and found exactly as long as
 * the header declares; nothing is kept, so a file of any size costs a fixed amount of memory.
 */
export async function verifyVolume(file: string, options: ReadOptions = {}): Promise<VolumeHeader> {
  return fileKindOf(file) === 'nifti' ? verifyNiftiFile(file, options) : verifyMetaImageFile(file, options);
}

/**
 * Reads (and decompresses) the file once, no further than its header declares; frames are then decoded one
 * at a time with readFrame(t).
 */
export async function openVolume(file: string, options: ReadOptions = {}): Promise<VolumeFile> {
  return fileKindOf(file) === 'nifti' ? openNiftiFile(file, options) : openMetaImageFile(file, options);
}

/** A 3D image. A 4D file is refused with a sentence saying to choose a frame (see openVolume, readFrame). */
export async function readVolume(file: string, options: ReadOptions = {}): Promise<Volume> {
  const opened = await openVolume(file, options);
  if (opened.header.frames > 1) {
    throw new EmonasError(
      'unsupported_format',
      `${nameOf(file)} is a 4D series of ${opened.header.frames} frames, not a single 3D image; choose one frame (e.g. the ED or ES phase) instead.`,
      { file },
    );
  }
  return opened.readFrame(0);
}

export async function countFrames(file: string, options: ReadOptions = {}): Promise<number> {
  return (await readVolumeHeader(file, options)).frames;
}

/** One frame of a (3D or 4D) file. To read several frames, open the file once with openVolume instead. */
export async function readFrame(file: string, t: number, options: ReadOptions = {}): Promise<Volume> {
  return (await openVolume(file, options)).readFrame(t);
}

export interface WriteVolumeOptions {
  /** Voxel type to store; defaults to the volume's dataType. */
  dataType?: VoxelType;
  /** MetaImage only: zlib-compress the voxels. (NIfTI compression follows the .gz extension.) */
  compress?: boolean;
}

/**
 * Writes a 3D volume in the format its extension names. `like` is the header of the image this one belongs
 * with (e.g. the scan behind a prediction): a NIfTI written like a NIfTI keeps its affine fields, codes and
 * units exactly, so the two open on top of each other.
 */
export async function writeVolume(
  file: string,
  volume: Volume,
  like?: VolumeHeader,
  options: WriteVolumeOptions = {},
): Promise<void> {
  if (fileKindOf(file) === 'nifti') {
    await writeNifti(file, volume, {
      ...(like && { like }),
      ...(options.dataType && { dataType: options.dataType }),
    });
  } else {
    await writeMetaImage(file, volume, options);
  }
}
