// Runs in: the engine. The Slurm executor's configuration: what a lab writes in its --slurm-config JSON file
// (partition, account, time limit, GPUs, extra #SBATCH lines, array limits, polling), its defaults, and
// the validation that turns a mistake into a sentence naming the file and the setting.
import { EmonasError } from '../../base/errors.ts';
import { readJsonFileSync } from '../../io/files.ts';

export interface SlurmConfig {
  /** --partition; null: the cluster's default partition. */
  partition: string | null;
  /** --account; null: the user's default account. */
  account: string | null;
  /** --qos; null: the default. */
  qos: string | null;
  /** --time of each candidate's job step, in minutes. */
  timeLimitMinutes: number;
  /** --gres=gpu[:type]:N per array task; 0 requests no GPU. */
  gpusPerTask: number;
  /** GPU type in the gres request (e.g. a100); null: any. */
  gpuType: string | null;
  /** --cpus-per-task: 3D augmentation wants 4 to 8 per GPU. */
  cpusPerTask: number;
  /** --mem in GB; null: the partition's default. */
  memoryGB: number | null;
  /** Further #SBATCH options, each one `--name` or `--name=value` (e.g. "--constraint=ib"). */
  extraDirectives: string[];
  /** Largest array the cluster accepts; null: ask `scontrol show config` (MaxArraySize). */
  maxArraySize: number | null;
  /** Tasks of one array that may run at once (the `%k` of --array): the lab's GPU share. */
  maxConcurrent: number;
  /** Seconds between two queue queries (one squeue call each); at least 30 on a shared cluster. */
  pollSeconds: number;
  /** Times a task that Slurm ended without a result (time limit, node failure, cancelled, lost) is resubmitted. */
  maxRetries: number;
  /** Seconds before the time limit at which the job step is warned (SIGUSR1) to save and stop; 0: none. */
  warningSeconds: number;
  /** Folder holding sbatch, squeue, scancel and scontrol, when they are not on PATH. */
  slurmBin: string | null;
  /** Node.js executable on the compute nodes; null: the coordinator's own (process.execPath). */
  node: string | null;
  /** Shell lines run in the job before the worker starts (e.g. "module load cuda/12.2"). */
  prologue: string[];
}

export const SLURM_DEFAULTS: SlurmConfig = {
  partition: null,
  account: null,
  qos: null,
  timeLimitMinutes: 240,
  gpusPerTask: 1,
  gpuType: null,
  cpusPerTask: 4,
  memoryGB: null,
  extraDirectives: [],
  maxArraySize: null,
  maxConcurrent: 4,
  pollSeconds: 30,
  maxRetries: 3,
  warningSeconds: 120,
  slurmBin: null,
  node: null,
  prologue: [],
};

/** Options the executor writes itself; a directive repeating one would silently break it. */
const MANAGED = [
  'array',
  'job-name',
  'output',
  'error',
  'open-mode',
  'comment',
  'parsable',
  'requeue',
  'no-requeue',
  'signal',
  'wrap',
];

type Kind = 'name' | 'int' | 'positiveInt' | 'positive' | 'lines' | 'path';

const KINDS: Record<keyof SlurmConfig, { kind: Kind; nullable: boolean }> = {
  partition: { kind: 'name', nullable: true },
  account: { kind: 'name', nullable: true },
  qos: { kind: 'name', nullable: true },
  timeLimitMinutes: { kind: 'positiveInt', nullable: false },
  gpusPerTask: { kind: 'int', nullable: false },
  gpuType: { kind: 'name', nullable: true },
  cpusPerTask: { kind: 'positiveInt', nullable: false },
  memoryGB: { kind: 'positive', nullable: true },
  extraDirectives: { kind: 'lines', nullable: false },
  maxArraySize: { kind: 'positiveInt', nullable: true },
  maxConcurrent: { kind: 'positiveInt', nullable: false },
  pollSeconds: { kind: 'positive', nullable: false },
  maxRetries: { kind: 'int', nullable: false },
  warningSeconds: { kind: 'int', nullable: false },
  slurmBin: { kind: 'path', nullable: true },
  node: { kind: 'path', nullable: true },
  prologue: { kind: 'lines', nullable: false },
};

const EXPECTED: Record<Kind, string> = {
  name: 'a name made of letters, digits, dots, dashes and underscores',
  int: 'a whole number of 0 or more',
  positiveInt: 'a whole number of 1 or more',
  positive: 'a number above 0',
  lines: 'a list of strings, each on one line',
  path: 'an absolute path',
};

function valid(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'name':
      return typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v);
    case 'path':
      return typeof v === 'string' && v.startsWith('/') && !/[\n\r]/.test(v);
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0;
    case 'positiveInt':
      return typeof v === 'number' && Number.isInteger(v) && v >= 1;
    case 'positive':
      return typeof v === 'number' && Number.isFinite(v) && v > 0;
    case 'lines':
      return Array.isArray(v) && v.every((line) => typeof line === 'string' && !/[\n\r]/.test(line));
  }
}

/** Checks a configuration object (from JSON) and fills in the defaults. */
export function parseSlurmConfig(value: unknown, file?: string): SlurmConfig {
  const where = file ?? 'The Slurm configuration';
  const fail = (message: string): never => {
    throw new EmonasError('bad_request', `${where}: ${message}`, file === undefined ? {} : { file });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail('it must be a JSON object such as {"partition": "gpu", "timeLimitMinutes": 240}.');
  }
  const config: SlurmConfig = { ...SLURM_DEFAULTS };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const spec = KINDS[key as keyof SlurmConfig];
    if (!Object.hasOwn(KINDS, key) || spec === undefined) {
      fail(`there is no setting "${key}"; the settings are ${Object.keys(KINDS).join(', ')}.`);
      continue;
    }
    if (v === null && spec.nullable) {
      (config as unknown as Record<string, unknown>)[key] = null;
      continue;
    }
    if (!valid(spec.kind, v)) {
      fail(
        `"${key}" must be ${EXPECTED[spec.kind]}${spec.nullable ? ' (or null)' : ''}, not ${JSON.stringify(v)}.`,
      );
    }
    (config as unknown as Record<string, unknown>)[key] = Array.isArray(v) ? [...v] : v;
  }
  for (const directive of config.extraDirectives) {
    const name = /^--([a-z][a-z0-9-]*)(=.*)?$/.exec(directive.trim())?.[1];
    if (name === undefined) {
      fail(
        `the extra directive "${directive}" must look like --name or --name=value (e.g. --constraint=ib).`,
      );
    } else if (MANAGED.includes(name)) {
      fail(`the extra directive "${directive}" sets --${name}, which Emonas Studio sets itself; remove it.`);
    }
  }
  if (config.warningSeconds > 0 && config.warningSeconds >= config.timeLimitMinutes * 60) {
    fail(
      `"warningSeconds" (${config.warningSeconds}) must be shorter than the time limit (${config.timeLimitMinutes} min), or 0 for no warning.`,
    );
  }
  return config;
}

/** Reads and checks a --slurm-config file. */
export function readSlurmConfig(path: string): SlurmConfig {
  const value = readJsonFileSync(path, (problem) =>
    problem.kind === 'unreadable'
      ? new EmonasError('not_found', `The Slurm configuration ${path} cannot be read; check the path.`, {
          file: path,
        })
      : new EmonasError(
          'bad_request',
          `The Slurm configuration ${path} is not valid JSON: ${problem.detail}.`,
          { file: path },
        ),
  );
  return parseSlurmConfig(value, path);
}
