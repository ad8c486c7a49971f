// Runs in: the end-to-end test processes. A Decathlon folder of the first real Task04 hippocampus cases, in
// a temp folder of its own, for a file to import, damage or search without touching the shared data.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realHippocampusFolder } from '../fixtures/hippocampus.ts';

/** The first `count` cases and their dataset.json; returns the folder. */
export function copyHippocampusCases(count: number): string {
  const source = realHippocampusFolder();
  const meta = JSON.parse(readFileSync(join(source, 'dataset.json'), 'utf8')) as {
    training: { image: string; label: string }[];
  };
  const root = join(mkdtempSync(join(tmpdir(), 'emonas-e2e-data-')), 'Task04_Hippocampus');
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'));
  const training = meta.training.slice(0, count);
  for (const { image, label } of training) {
    copyFileSync(join(source, image), join(root, image));
    copyFileSync(join(source, label), join(root, label));
  }
  writeFileSync(
    join(root, 'dataset.json'),
    JSON.stringify({ ...meta, numTraining: training.length, training, test: [] }, null, 1),
  );
  return root;
}
