// Runs in: the end-to-end test processes. Builds the renderer into dist/renderer once for all end-to-end
// files: vitest runs files in parallel, and a second `vite build` empties the folder another file's
// `emonas serve` is serving from. The first file to arrive builds under a lock; the others wait for it and
// reuse the build when the sources it was made from have not changed since.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'dist', 'renderer');
const STAMP = join(OUT, '.sources-stamp');
const LOCK = join(ROOT, 'dist', '.renderer-build.lock');
/** A lock older than this belongs to a process that died while building. */
const STALE_MS = 10 * 60_000;
const SOURCES = ['renderer', 'core/api', 'vite.config.ts', 'package-lock.json'];

function listFiles(path: string, into: string[]): void {
  const info = statSync(path);
  if (!info.isDirectory()) {
    into.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) listFiles(join(path, name), into);
}

/** What the build depends on, by content: a changed file means a new build. */
function sourcesStamp(): string {
  const files: string[] = [];
  for (const source of SOURCES) {
    const path = join(ROOT, source);
    if (existsSync(path)) listFiles(path, files);
  }
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest('hex');
}

function tryLock(): boolean {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    const since = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

export async function buildRendererOnce(): Promise<void> {
  const stamp = sourcesStamp();
  for (;;) {
    if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) return;
    if (tryLock()) {
      try {
        if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) return;
        await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
        writeFileSync(STAMP, stamp);
        return;
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
