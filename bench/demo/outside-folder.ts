// Runs in: a plain Node process (a benchmark). The Task04_Hippocampus cases outside the bundled demo subset
// (cases a demo-trained model never trained on, validated on or chose its epoch with), as a Decathlon folder
// of links, so evaluation reads them as the dataset itself. Shared by bench/demo/outside.ts and
// bench/postprocess/run.ts so both measure the same cases.
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_DATASET } from '../../core/service/search-demo.ts';

interface TrainingEntry {
  image: string;
  label: string;
}

/**
 * Writes the folder `work`/Task04_Hippocampus_outside anew and returns it with the number of cases it holds;
 * `limit` keeps only the first cases (a quick check of a benchmark, not a result).
 */
export async function outsideDemoFolder(
  dataset: string,
  work: string,
  { limit = null }: { limit?: number | null } = {},
): Promise<{ folder: string; cases: number }> {
  const demoImages = new Set(await readdir(join(DEMO_DATASET, 'imagesTr')));
  const manifest = JSON.parse(await readFile(join(dataset, 'dataset.json'), 'utf8')) as {
    training: TrainingEntry[];
    [key: string]: unknown;
  };
  const outside = manifest.training
    .filter((e) => !demoImages.has(e.image.replace(/^\.\/imagesTr\//, '')))
    .slice(0, limit ?? undefined);
  const folder = join(work, 'Task04_Hippocampus_outside');
  await rm(folder, { recursive: true, force: true });
  await mkdir(join(folder, 'imagesTr'), { recursive: true });
  await mkdir(join(folder, 'labelsTr'));
  for (const e of outside) {
    await symlink(join(dataset, e.image), join(folder, e.image));
    await symlink(join(dataset, e.label), join(folder, e.label));
  }
  await writeFile(
    join(folder, 'dataset.json'),
    JSON.stringify({ ...manifest, numTraining: outside.length, training: outside, test: [] }, null, 2),
  );
  return { folder, cases: outside.length };
}
