#!/usr/bin/env node
// Runs in: a plain Node process started by the fake cluster's sbatch, squeue, scancel and scontrol wrappers
// (fake-cluster.ts), and, for each job, as that job's scheduler in the background. A stand-in for a one-node
// Slurm that really runs the job scripts it is given, so the Slurm executor can be tested where no cluster
// is up: job arrays (--array=0-N%M: at most M tasks at once, lowest index first), --output with %A, %a and
// %%, --job-name and --comment, the SLURM_* variables `emonas worker` reads, squeue --name in the executor's
// --Format, and scancel of tasks, whole jobs or names (SIGTERM to the task's process group, SIGKILL after
// KILL_WAIT_MS, as slurmd does). Time limits, GPUs, memory and requeueing are not simulated. Plain
// JavaScript: the executor runs squeue every poll interval, and tsx would add a third of a second to each.
//
// State, under the folder given as the first argument: jobs/<id>/job.json (what sbatch read),
// jobs/<id>/<index>.json (the task's state, written only by the job's scheduler), jobs/<id>/<index>.cancel
// (a cancel request from scancel), jobs/<id>/scheduler.pid.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const KILL_WAIT_MS = 2000;
const TICK_MS = 25;
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

const [root, command, ...args] = process.argv.slice(2);
const jobsDir = join(root, 'jobs');

function fail(message) {
  process.stderr.write(`${command}: error: ${message}\n`);
  process.exit(1);
}

function readJson(path, fallback) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return fallback;
  }
}

function writeJson(path, value) {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

function jobIds() {
  if (!existsSync(jobsDir)) return [];
  return readdirSync(jobsDir)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

function taskState(id, index) {
  return readJson(join(jobsDir, String(id), `${index}.json`), { state: 'PENDING' });
}

/** The #SBATCH directives a job script holds, as name -> value (quotes around a value removed). */
function directives(script) {
  const out = new Map();
  for (const line of script.split('\n')) {
    const m = /^#SBATCH\s+--([a-z-]+)(?:=(.*))?$/.exec(line.trim());
    if (m) out.set(m[1], (m[2] ?? '').replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

function sbatch() {
  const scriptPath = args.at(-1);
  if (!scriptPath || !existsSync(scriptPath)) fail(`Unable to open file ${scriptPath}`);
  const script = readFileSync(scriptPath, 'utf8');
  const d = directives(script);
  const array = /^(\d+)-(\d+)(?:%(\d+))?$/.exec(d.get('array') ?? '0-0');
  if (!array || Number(array[1]) !== 0) fail(`this fake takes only --array=0-N[%M], not ${d.get('array')}`);
  const size = Number(array[2]) + 1;
  mkdirSync(jobsDir, { recursive: true });
  // mkdir is the lock: two sbatch calls at once never get the same id.
  let id = jobIds().at(-1) ?? 99;
  for (;;) {
    id++;
    try {
      mkdirSync(join(jobsDir, String(id)));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
  }
  const dir = join(jobsDir, String(id));
  writeJson(join(dir, 'job.json'), {
    name: d.get('job-name') ?? 'sbatch',
    comment: d.get('comment') ?? '',
    size,
    throttle: array[3] === undefined ? size : Math.max(1, Number(array[3])),
    output: d.get('output') ?? 'slurm-%A_%a.out',
    script: scriptPath,
    cwd: process.cwd(),
  });
  const scheduler = spawn(process.execPath, [fileURLToPath(import.meta.url), root, 'schedule', String(id)], {
    detached: true,
    stdio: 'ignore',
  });
  writeFileSync(join(dir, 'scheduler.pid'), String(scheduler.pid));
  scheduler.unref();
  process.stdout.write(`${id}\n`);
}

function outputPath(pattern, id, index) {
  return pattern.replace(/%(%|A|a)/g, (_, c) => (c === '%' ? '%' : c === 'A' ? String(id) : String(index)));
}

/** One job's scheduler: starts its tasks within the throttle, records how each ends, carries out cancels. */
async function schedule() {
  const id = Number(args[0]);
  const dir = join(jobsDir, String(id));
  const job = readJson(join(dir, 'job.json'), null);
  if (job === null) fail(`job ${id} has no job.json`);
  const running = new Map();
  const ended = new Set();
  const record = (index, value) => writeJson(join(dir, `${index}.json`), value);
  const cancelled = (index) => existsSync(join(dir, `${index}.cancel`));
  const signalGroup = (pid, signal) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group has exited already.
    }
  };
  const start = (index) => {
    const log = outputPath(job.output, id, index);
    mkdirSync(dirname(log), { recursive: true });
    const fd = openSync(log, 'a');
    const child = spawn('bash', [job.script], {
      cwd: job.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        SLURM_JOB_ID: String(id * 1000 + index),
        SLURM_ARRAY_JOB_ID: String(id),
        SLURM_ARRAY_TASK_ID: String(index),
        SLURM_JOB_NAME: job.name,
      },
    });
    closeSync(fd);
    const task = { pid: child.pid, termAt: null };
    running.set(index, task);
    record(index, { state: 'RUNNING', pid: child.pid });
    child.on('exit', (code, signal) => {
      const signo = signal === null ? 0 : (constants.signals[signal] ?? 0);
      const state = cancelled(index) ? 'CANCELLED' : code === 0 ? 'COMPLETED' : 'FAILED';
      record(index, { state, exit: ((code ?? 0) << 8) | signo });
      running.delete(index);
      ended.add(index);
    });
  };
  for (;;) {
    for (let index = 0; index < job.size; index++) {
      if (ended.has(index)) continue;
      const task = running.get(index);
      if (task === undefined && cancelled(index)) {
        record(index, { state: 'CANCELLED', exit: 0 });
        ended.add(index);
      } else if (task !== undefined && cancelled(index)) {
        if (task.termAt === null) {
          task.termAt = Date.now();
          signalGroup(task.pid, 'SIGTERM');
        } else if (Date.now() - task.termAt > KILL_WAIT_MS) {
          signalGroup(task.pid, 'SIGKILL');
        }
      }
    }
    for (let index = 0; index < job.size && running.size < job.throttle; index++) {
      if (!ended.has(index) && !running.has(index) && !cancelled(index)) start(index);
    }
    if (ended.size === job.size) return;
    await sleep(TICK_MS);
  }
}

function squeue() {
  const name = args.find((a) => a.startsWith('--name='))?.slice('--name='.length);
  const lines = [];
  for (const id of jobIds()) {
    const job = readJson(join(jobsDir, String(id), 'job.json'), null);
    if (job === null || (name !== undefined && job.name !== name)) continue;
    for (let index = 0; index < job.size; index++) {
      const t = taskState(id, index);
      const reason =
        t.state === 'PENDING' ? 'JobArrayTaskLimit' : t.state === 'FAILED' ? 'NonZeroExitCode' : 'None';
      const exit = FINAL.has(t.state) ? t.exit : 0;
      const key = `${id}_${index}`;
      lines.push(
        [key, String(id * 1000 + index), t.state, reason, exit, 0, job.comment].map((v) => `${v}|`).join(''),
      );
    }
  }
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
}

function scancel() {
  const name = args.find((a) => a.startsWith('--name='))?.slice('--name='.length);
  const wanted = args.filter((a) => !a.startsWith('--'));
  for (const id of jobIds()) {
    const job = readJson(join(jobsDir, String(id), 'job.json'), null);
    if (job === null) continue;
    for (let index = 0; index < job.size; index++) {
      const hit =
        (name !== undefined && job.name === name) ||
        wanted.includes(String(id)) ||
        wanted.includes(`${id}_${index}`);
      if (hit && !FINAL.has(taskState(id, index).state)) {
        writeFileSync(join(jobsDir, String(id), `${index}.cancel`), '');
      }
    }
  }
}

function scontrol() {
  if (args[0] !== 'show' || args[1] !== 'config')
    fail(`this fake answers only "show config", not "${args.join(' ')}"`);
  process.stdout.write('MaxArraySize            = 1001\n');
}

const commands = { sbatch, squeue, scancel, scontrol, schedule };
const run = commands[command];
if (run === undefined) fail(`unknown command ${command}`);
await run();
