// The search commands end to end on a tiny real search (two candidates, one epoch of two steps, trained
// at once by two workers): search, then front --json, runs --json, predict --model on a candidate folder
// and finalize, from the chosen candidate's weights and with --fresh.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tinySearchConfig } from '../../fixtures/tiny-search.ts';
import { smallHippocampus } from '../api/demo-fixture.ts';

const EMONAS = fileURLToPath(new URL('../../../bin/emonas.mjs', import.meta.url));

function emonas(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [EMONAS, ...args], { encoding: 'utf8', timeout: 150_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('searches, shows the front and runs, predicts with a candidate, finalizes', { timeout: 300_000 }, () => {
  const temp = mkdtempSync(join(tmpdir(), 'emonas-cli-search-'));
  const dataset = smallHippocampus([
    'hippocampus_001',
    'hippocampus_003',
    'hippocampus_004',
    'hippocampus_006',
  ]);
  const config = join(temp, 'search.json');
  writeFileSync(config, JSON.stringify(tinySearchConfig()));
  const runDir = join(temp, 'runs', 'tiny');
  const search = emonas(
    'search',
    '--dataset',
    dataset,
    '--out',
    runDir,
    '--preset',
    'quick',
    '--config',
    config,
    '--workers',
    '2',
    '--epochs',
    '1',
    '--steps-per-epoch',
    '2',
    '--batch',
    '1',
    '--patch',
    '16,16,16',
    '--val-fraction',
    '0.25',
    '--test-fraction',
    '0',
    '--cache',
    join(temp, 'cache'),
    '--json',
  );
  expect(search.status, search.stderr).toBe(0);
  const summary = JSON.parse(search.stdout) as { status: string; evaluated: number };
  expect(summary).toMatchObject({ status: 'finished', evaluated: 2 });

  const front = emonas('front', runDir, '--json');
  expect(front.status, front.stderr).toBe(0);
  const rows = JSON.parse(front.stdout) as Record<string, unknown>[];
  expect(rows.length).toBeGreaterThanOrEqual(1);
  for (const row of rows) {
    for (const key of ['candidate', 'genome', 'f1', 'f2', 'params']) expect(row).toHaveProperty(key);
    expect(row.f2).toBeCloseTo(Math.log(row.params as number), 10);
    expect(Object.keys(row.valDice as object).sort()).toEqual(['Anterior', 'Posterior']);
  }

  const runs = emonas('runs', join(temp, 'runs'), '--json');
  expect(runs.status, runs.stderr).toBe(0);
  expect(JSON.parse(runs.stdout)).toMatchObject([
    { id: 'tiny', status: 'finished', evaluated: 2, planned: 2, failed: 0, problem: 'dataset' },
  ]);

  const candidate = join(runDir, 'candidates', rows[0]?.candidate as string);
  const out = join(temp, 'predicted');
  const predict = emonas(
    'predict',
    '--model',
    candidate,
    '--input',
    join(dataset, 'imagesTr', 'hippocampus_001.nii.gz'),
    '--out',
    out,
  );
  expect(predict.status, predict.stderr).toBe(0);
  expect(existsSync(join(out, 'hippocampus_001.nii.gz'))).toBe(true);

  // The front's most accurate network comes first; finalize chooses it and starts from its weights.
  const chosen = rows[0]?.candidate as string;
  const weights = createHash('sha256')
    .update(readFileSync(join(runDir, 'candidates', chosen, 'weights.bin')))
    .digest('hex');
  const short = ['--epochs', '1', '--steps-per-epoch', '1', '--json'];
  const finalized = emonas('finalize', runDir, ...short);
  expect(finalized.status, finalized.stderr).toBe(0);
  expect(JSON.parse(finalized.stdout)).toMatchObject({
    candidate: chosen,
    status: 'completed',
    startedFrom: { candidate: chosen, sha256: weights },
  });
  const fresh = emonas('finalize', runDir, '--fresh', ...short);
  expect(fresh.status, fresh.stderr).toBe(0);
  expect(JSON.parse(fresh.stdout)).toMatchObject({ candidate: chosen, startedFrom: 'fresh' });
});
