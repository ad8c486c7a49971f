// Runs in: the engine. What `emonas doctor` and the app's settings page show: the training backend in use,
// why each better one is unavailable, and the machine.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { DoctorReport } from '../api/app.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function doctor(): Promise<DoctorReport> {
  // Loaded on demand: the engine should not pay for tfjs until someone asks.
  const { selectBackend } = await import('../train/backend.ts');
  const only = process.env.EMONAS_BACKEND;
  const choice = await selectBackend(only ? { only } : {});
  return {
    backend: choice.backend,
    backends: choice.backends,
    engine: {
      version: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
  };
}
