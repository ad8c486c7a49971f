// Runs in: any process. Which file names are volumes the readers in core/io accept, and the case id in them.

const VOLUME_EXTENSIONS = ['.nii.gz', '.nii', '.mha', '.mhd'];

/** The name without its volume extension, or null when the name is not a volume file. */
export function stripVolumeExtension(name: string): string | null {
  const lower = name.toLowerCase();
  for (const ext of VOLUME_EXTENSIONS) {
    if (lower.endsWith(ext) && lower.length > ext.length) return name.slice(0, name.length - ext.length);
  }
  return null;
}
