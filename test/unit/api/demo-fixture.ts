// A small real Decathlon dataset for engine tests: a few cases of the bundled hippocampus demo, copied into
// a temp folder with a dataset.json that lists only them.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(new URL('../../../resources/demo/Task04_Hippocampus_demo/', import.meta.url));

export function smallHippocampus(cases = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004']): string {
  const root = join(mkdtempSync(join(tmpdir(), 'emonas-msd-')), 'Task04_Hippocampus');
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'));
  for (const id of cases) {
    copyFileSync(join(DEMO, 'imagesTr', `${id}.nii.gz`), join(root, 'imagesTr', `${id}.nii.gz`));
    copyFileSync(join(DEMO, 'labelsTr', `${id}.nii.gz`), join(root, 'labelsTr', `${id}.nii.gz`));
  }
  writeFileSync(
    join(root, 'dataset.json'),
    JSON.stringify({
      name: 'Hippocampus',
      description: 'Left and right hippocampus segmentation',
      labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' },
      modality: { '0': 'MRI' },
      numTraining: cases.length,
      numTest: 0,
      training: cases.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
      test: [],
    }),
  );
  return root;
}
