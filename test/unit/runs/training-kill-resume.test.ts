// Killing a real search (tiny real training on real hippocampus cases) while a candidate trains, then
// resuming it: that candidate is trained again, no completed candidate is trained again, and nothing in
// the run folder is lost. Also checks that each candidate's folder is a model folder as emonas train
// writes it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { readJournal } from '../../../core/runs/journal.ts';
import { tinySearchConfig } from '../../fixtures/tiny-search.ts';
import { smallHippocampus } from '../api/demo-fixture.ts';

const CHILD = fileURLToPath(new URL('./training-kill-child.ts', import.meta.url));

const CONFIG = { algorithm: 'samea', preset: 'quick', ...tinySearchConfig(3) };

const MODEL_FILES = [
  'model.json',
  'weights.bin',
  'emonas-model.json',
  'split.json',
  'training-log.csv',
  'result.json',
];

/** Runs the child; with killAfter, SIGKILLs it once a candidate has completed and the next one is training. */
function runChild(
  runDir: string,
  problem: unknown,
  kill: boolean,
): Promise<{ lines: string[]; killedDuring: string | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', CHILD, runDir, JSON.stringify(CONFIG), JSON.stringify(problem)];
    // Node itself (not the tsx command, which runs the script in a child of its own), so SIGKILL hits the search.
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let killedDuring: string | null = null;
    let buffer = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const training = /^training (\S+)$/.exec(line);
        if (kill && killedDuring === null && training && lines.some((l) => l.startsWith('completed '))) {
          killedDuring = training[1] as string;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!kill && code !== 0) reject(new Error(`the search child failed (${code}): ${stderr}`));
      else resolve({ lines, killedDuring, code });
    });
  });
}

function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else files.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}

it('retrains only the candidate killed in training, and loses nothing', { timeout: 180_000 }, async () => {
  const temp = mkdtempSync(join(tmpdir(), 'emonas-train-kill-'));
  const dataset = smallHippocampus([
    'hippocampus_001',
    'hippocampus_003',
    'hippocampus_004',
    'hippocampus_006',
  ]);
  const runDir = join(temp, 'run');
  const problem = {
    kind: 'dataset',
    dataset,
    epochs: 1,
    stepsPerEpoch: 2,
    batchSize: 1,
    patch: [16, 16, 16],
    valFraction: 0.25,
    testFraction: 0,
    cacheDir: join(temp, 'cache'),
  };

  const first = await runChild(runDir, problem, true);
  const killed = first.killedDuring;
  expect(
    killed,
    `the child never reached a second candidate's training: ${first.lines.join(' | ')}`,
  ).not.toBeNull();
  const completedBefore = first.lines.filter((l) => l.startsWith('completed ')).map((l) => l.slice(10));
  expect(completedBefore.length).toBeGreaterThanOrEqual(1);
  const before = snapshot(runDir);

  const second = await runChild(runDir, problem, false);
  expect(second.lines.at(-1)).toBe('finished');
  const after = snapshot(runDir);

  const { records } = readJournal(join(runDir, 'journal.jsonl'));
  const count = (t: string, id: string): number =>
    records.filter((r) => r.t === t && 'id' in r && r.id === id).length;
  // The interrupted candidate was submitted twice and has one result; the completed ones were never resubmitted.
  expect(count('submitted', killed as string)).toBe(2);
  expect(count('result', killed as string)).toBe(1);
  for (const id of completedBefore) {
    expect(count('submitted', id)).toBe(1);
    expect(count('result', id)).toBe(1);
  }
  expect(second.lines.filter((l) => l.startsWith('completed ')).map((l) => l.slice(10))).not.toContain(
    completedBefore[0],
  );
  expect(records.filter((r) => r.t === 'finished')).toHaveLength(1);

  // Nothing is lost: every file is still there, and the completed candidates' files are unchanged.
  let unchanged = 0;
  for (const [path, hash] of before) {
    // The engine's live state: its lock and its workers (core/runs/worker-registry.ts), gone once it ends.
    if (path === 'run.lock' || path === 'workers.json') continue;
    expect(after.has(path), `${path} disappeared`).toBe(true);
    if (completedBefore.some((id) => path.startsWith(join('candidates', id) + '/'))) {
      expect(after.get(path), `${path} changed`).toBe(hash);
      unchanged++;
    }
  }
  expect(unchanged).toBeGreaterThan(0);
  // Each trained candidate's folder is a model folder as emonas train writes it.
  const results = records.filter((r) => r.t === 'result');
  expect(results).toHaveLength(3);
  for (const r of results) {
    if (r.t !== 'result' || r.outcome.status !== 'completed') continue;
    for (const name of MODEL_FILES) {
      expect(statSync(join(runDir, 'candidates', r.id, name)).size, `${r.id}/${name}`).toBeGreaterThan(0);
    }
  }
  expect(results.some((r) => r.t === 'result' && r.outcome.status === 'completed')).toBe(true);

  // run.json names the backends the workers trained on and every file the search trained and validated on.
  const manifest = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  const backends = results.flatMap((r) =>
    r.t === 'result' && r.outcome.status === 'completed'
      ? [JSON.parse(readFileSync(join(runDir, 'candidates', r.id, 'emonas-model.json'), 'utf8')).backend]
      : [],
  );
  expect(backends.length).toBeGreaterThan(0);
  expect(manifest.backends).toEqual([...new Set(backends)]);
  const files = manifest.dataset.files as { id: string; files: { path: string; sha256: string }[] }[];
  expect(files.map((c) => c.id).sort()).toEqual(
    readdirSync(join(dataset, 'imagesTr'))
      .map((f) => f.replace('.nii.gz', ''))
      .sort(),
  );
  for (const c of files) {
    expect(c.files).toHaveLength(2);
    for (const f of c.files) {
      expect(f.sha256).toBe(
        createHash('sha256')
          .update(readFileSync(join(dataset, f.path)))
          .digest('hex'),
      );
    }
  }
});
