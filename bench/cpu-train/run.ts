// Runs in: the `npm run bench:cpu-train` command's process. Times a training step of (a) a small 3D
// network and (b) a real search candidate on a hippocampus patch with tfjs's cpu backend, the project's
// emonas-cpu engine and PyTorch on 2 threads, side by side in one run. Each framework lives in its own
// child process (so each has its own peak memory); rounds alternate between our engine and PyTorch and the
// medians are compared, because the machine may be shared. Prints one `ratio` line per network.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CANDIDATE_NETWORK, SMALL_NETWORK, candidateGenome, type NetworkName } from './networks.ts';
import { median } from '../median.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const PYTHON = '/usr/bin/python3';
const HIPPOCAMPUS = '/work/shared/data/Task04_Hippocampus';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '2' },
    network: { type: 'string' },
    'skip-cpu': { type: 'boolean', default: false },
    data: { type: 'string', default: HIPPOCAMPUS },
    threads: { type: 'string', default: '2' },
  },
});
const rounds = Number(values.rounds);
const stepsPerRound = Number(values.steps);

/**
 * Stops with what to install when Debian's PyTorch (or nibabel, which prepares the hippocampus patch) is
 * missing, before any child process starts: a child that dies on its imports could only say it exited.
 */
function requirePyTorch(withNibabel: boolean): void {
  const modules = ['numpy', 'torch', ...(withNibabel ? ['nibabel'] : [])];
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status === 0) return;
  const packages = ['python3-numpy', 'python3-torch', ...(withNibabel ? ['python3-nibabel'] : [])];
  const said = r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
  process.stderr.write(
    `bench:cpu-train compares against PyTorch and needs ${PYTHON} with ${modules.join(', ')} importable ` +
      `(${said}). On Debian: apt-get install ${packages.join(' ')}\n`,
  );
  process.exit(1);
}

interface Reply {
  ms: number[];
  /** CPU time of the process per step, all its threads together. */
  cpuMs: number[];
  loss: number;
  peakRssMiB: number;
}

/** A framework's child process, answering {"steps": n} lines. */
class Runner {
  private readonly lines: AsyncIterator<string>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader: Interface;
  private exitCode: number | null = null;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (!/tfjs-node|looks like you are running|^=+$|^\s*$/m.test(text))
        process.stderr.write(`[${label}] ${text}`);
    });
    this.child.on('exit', (code) => (this.exitCode = code));
    this.reader = createInterface({ input: this.child.stdout });
    this.lines = this.reader[Symbol.asyncIterator]();
  }

  private async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const { value, done } = await this.lines.next();
      if (done === true) {
        throw new Error(
          `${this.label} exited before answering${this.exitCode === null ? '' : ` (exit code ${this.exitCode})`}; its error output is above, prefixed [${this.label}]`,
        );
      }
      if (value.startsWith('{')) return JSON.parse(value) as Record<string, unknown>;
    }
  }

  async ready(): Promise<void> {
    await this.next();
  }

  async steps(n: number): Promise<Reply> {
    this.child.stdin.write(JSON.stringify({ steps: n }) + '\n');
    return (await this.next()) as unknown as Reply;
  }

  close(): void {
    this.child.stdin.end();
    this.reader.close();
  }
}

function tfjsRunner(backend: string, network: NetworkName, data: string): Runner {
  return new Runner(`tfjs ${backend}`, process.execPath, [
    '--import',
    'tsx',
    join(HERE, 'tfjs-step.ts'),
    '--network',
    network,
    '--backend',
    backend,
    '--data',
    data,
    '--threads',
    values.threads,
  ]);
}

function torchRunner(network: NetworkName, data: string): Runner {
  const spec = network === 'small' ? SMALL_NETWORK : candidateGenome();
  return new Runner('pytorch', PYTHON, [
    join(HERE, 'torch_step.py'),
    'serve',
    '--network',
    network,
    '--spec',
    JSON.stringify(spec),
    '--data',
    data,
    '--threads',
    values.threads,
  ]);
}

async function prepare(dir: string): Promise<void> {
  const { batch, shape, classes } = CANDIDATE_NETWORK;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      PYTHON,
      [
        join(HERE, 'torch_step.py'),
        'prepare',
        '--case-dir',
        values.data,
        '--data',
        dir,
        '--batch',
        String(batch),
        '--shape',
        shape.join(','),
        '--classes',
        String(classes),
      ],
      { stdio: 'inherit' },
    );
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`patch preparation failed (${code})`)),
    );
  });
}

interface Row {
  label: string;
  stepMs: number;
  cpuMs: number;
  peakRssMiB: number;
  loss: number;
}

async function measure(network: NetworkName, data: string): Promise<Row[]> {
  const rows: Row[] = [];
  const ours = tfjsRunner('emonas-cpu', network, data);
  const torch = torchRunner(network, data);
  await Promise.all([ours.ready(), torch.ready()]);
  // Warm-up: JIT, allocator and first-touch costs are not a training step's.
  await ours.steps(2);
  await torch.steps(2);
  const oursMs: number[] = [];
  const torchMs: number[] = [];
  const oursCpu: number[] = [];
  const torchCpu: number[] = [];
  let oursLast: Reply | undefined;
  let torchLast: Reply | undefined;
  for (let r = 0; r < rounds; r++) {
    oursLast = await ours.steps(stepsPerRound);
    oursMs.push(...oursLast.ms);
    oursCpu.push(...oursLast.cpuMs);
    torchLast = await torch.steps(stepsPerRound);
    torchMs.push(...torchLast.ms);
    torchCpu.push(...torchLast.cpuMs);
  }
  ours.close();
  torch.close();
  rows.push({
    label: 'emonas-cpu',
    stepMs: median(oursMs),
    cpuMs: median(oursCpu),
    peakRssMiB: oursLast?.peakRssMiB ?? NaN,
    loss: oursLast?.loss ?? NaN,
  });
  rows.push({
    label: `pytorch (${values.threads} threads)`,
    stepMs: median(torchMs),
    cpuMs: median(torchCpu),
    peakRssMiB: torchLast?.peakRssMiB ?? NaN,
    loss: torchLast?.loss ?? NaN,
  });
  if (!values['skip-cpu']) {
    // tfjs's own cpu backend takes seconds to minutes a step: one warm-up on the small network, none on
    // the candidate, then a single timed step.
    const cpu = tfjsRunner('cpu', network, data);
    await cpu.ready();
    if (network === 'small') await cpu.steps(1);
    const reply = await cpu.steps(1);
    cpu.close();
    rows.push({
      label: 'tfjs cpu',
      stepMs: median(reply.ms),
      cpuMs: median(reply.cpuMs),
      peakRssMiB: reply.peakRssMiB,
      loss: reply.loss,
    });
  }
  return rows;
}

const networks: NetworkName[] =
  values.network === undefined ? ['small', 'candidate'] : [values.network as NetworkName];
requirePyTorch(networks.includes('candidate'));
const dir = mkdtempSync(join(tmpdir(), 'emonas-bench-'));
try {
  if (networks.includes('candidate')) await prepare(dir);
  for (const network of networks) {
    const title =
      network === 'small'
        ? '(a) small: 2x32x32x16x1, two 3x3x3 convs of 16, 1x1x1 head, softmax cross-entropy'
        : '(b) candidate: prostate genome with 8 filters and 5 cells, 2x48x64x48 hippocampus patch, soft Dice';
    process.stdout.write(`\n${title}\n`);
    const rows = await measure(network, dir);
    const torch = rows.find((r) => r.label.startsWith('pytorch'));
    const ours = rows.find((r) => r.label === 'emonas-cpu');
    process.stdout.write('  backend               ms/step   x PyTorch   CPU ms/step   peak RSS MiB\n');
    for (const row of rows) {
      const ratio = torch === undefined ? NaN : row.stepMs / torch.stepMs;
      process.stdout.write(
        `  ${row.label.padEnd(20)} ${row.stepMs.toFixed(0).padStart(8)} ${ratio.toFixed(2).padStart(11)} ` +
          `${row.cpuMs.toFixed(0).padStart(13)} ${row.peakRssMiB.toFixed(0).padStart(14)}\n`,
      );
    }
    if (ours !== undefined && torch !== undefined) {
      process.stdout.write(
        `  ${network}: ratio emonas-cpu / pytorch = ${(ours.stepMs / torch.stepMs).toFixed(2)}\n`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
