// Runs in: any process. MetaImage writing: .mhd with a .raw (or zlib-compressed .zraw) data file beside it,
// or a single .mha; little-endian, 3D.
import { basename, dirname, join } from 'node:path';
import { EmonasError } from '../base/errors.ts';
import { deflate, nameOf, writeFileAtomic } from './files.ts';
import { formatMetaImageHeader } from './metaimage-header.ts';
import { checkVolume } from './volume-checks.ts';
import type { Volume, VoxelType } from './volume.ts';
import { bytesOf, convertVoxels, fitsExactly, voxelTypeOf } from './voxel-types.ts';

export interface WriteMetaImageOptions {
  /** Voxel type to store; defaults to the volume's dataType (or its array's type when that would lose values). */
  dataType?: VoxelType;
  /** zlib-compress the voxels (CompressedData = True); .mhd data then goes to a .zraw file. */
  compress?: boolean;
}

export async function writeMetaImage(
  file: string,
  volume: Volume,
  options: WriteMetaImageOptions = {},
): Promise<void> {
  const lower = file.toLowerCase();
  const local = lower.endsWith('.mha');
  if (!local && !lower.endsWith('.mhd')) {
    const message = `${nameOf(file)} must end in .mhd or .mha to be written as MetaImage.`;
    throw new EmonasError('bad_request', message, { file });
  }
  checkVolume(volume, file);
  const type = storedType(volume, options, file);
  const raw = bytesOf(convertVoxels(volume.data, type));
  const voxels = options.compress ? await deflate(raw) : raw;
  const dataFile = local
    ? 'LOCAL'
    : `${basename(file).slice(0, -'.mhd'.length)}.${options.compress ? 'zraw' : 'raw'}`;
  const text = formatMetaImageHeader({
    ...volume,
    dataType: type,
    compressedSize: options.compress ? voxels.length : undefined,
    dataFile,
  });
  const header = Buffer.from(text, 'latin1');
  if (local) {
    await writeFileAtomic(file, Buffer.concat([header, voxels]));
  } else {
    // Data first: a header never points at a data file that is not there yet.
    await writeFileAtomic(join(dirname(file), dataFile), voxels);
    await writeFileAtomic(file, header);
  }
}

/** MetaImage has no intensity scaling, so a type that would change values is refused rather than rounded. */
function storedType(volume: Volume, options: WriteMetaImageOptions, file: string): VoxelType {
  const wanted = options.dataType ?? volume.dataType;
  if (fitsExactly(volume.data, wanted)) return wanted;
  if (options.dataType === undefined) return voxelTypeOf(volume.data);
  throw new EmonasError(
    'bad_request',
    `${nameOf(file)} cannot store these values as ${wanted} without changing them (MetaImage has no intensity scaling); write it as float32 instead.`,
    { file },
  );
}
