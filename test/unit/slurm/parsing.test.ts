// Runs in: a test process. The Slurm executor's pure parts: the configuration file and its errors, squeue's
// output, the verdict on every way a task can end, and the job script's quoting of awkward paths.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { SLURM_DEFAULTS, parseSlurmConfig, readSlurmConfig } from '../../../core/executors/slurm/config.ts';
import { jobScript } from '../../../core/executors/slurm/job-script.ts';
import { parseQueue, type QueueRow } from '../../../core/executors/slurm/slurm-commands.ts';
import { logTail, verdictFor } from '../../../core/executors/slurm/verdict.ts';
import { tempDirs } from '../../fixtures/temp-dir.ts';

const temp = tempDirs('slurm-parsing');
afterAll(() => temp.cleanup());

function failure(run: () => unknown): EmonasError {
  try {
    run();
  } catch (err) {
    if (err instanceof EmonasError) return err;
    throw err;
  }
  throw new Error('expected an EmonasError');
}

describe('Slurm configuration', () => {
  it('fills in the defaults and keeps what the file sets', () => {
    const config = parseSlurmConfig({
      partition: 'gpu',
      gpusPerTask: 2,
      extraDirectives: ['--constraint=ib'],
    });
    expect(config).toEqual({
      ...SLURM_DEFAULTS,
      partition: 'gpu',
      gpusPerTask: 2,
      extraDirectives: ['--constraint=ib'],
    });
  });

  it('names the file and the setting in every mistake', () => {
    const dir = temp.make();
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const cases: [string, string, RegExp][] = [
      [
        'unknown.json',
        '{"partitions": "gpu"}',
        /there is no setting "partitions"; the settings are partition, account/,
      ],
      [
        'type.json',
        '{"timeLimitMinutes": "4h"}',
        /"timeLimitMinutes" must be a whole number of 1 or more, not "4h"/,
      ],
      ['name.json', '{"account": "lab; rm -rf"}', /"account" must be a name made of letters/],
      [
        'bad-directive.json',
        '{"extraDirectives": ["constraint=ib"]}',
        /must look like --name or --name=value/,
      ],
      [
        'managed.json',
        '{"extraDirectives": ["--array=0-9"]}',
        /sets --array, which Emonas Studio sets itself/,
      ],
      [
        'newline.json',
        '{"prologue": ["module load x\\nrm"]}',
        /"prologue" must be a list of strings, each on one line/,
      ],
      [
        'warning.json',
        '{"timeLimitMinutes": 1, "warningSeconds": 120}',
        /"warningSeconds" \(120\) must be shorter than the time limit/,
      ],
      ['array.json', '[1, 2]', /must be a JSON object/],
      ['broken.json', '{"partition": ', /is not valid JSON/],
    ];
    for (const [name, text, message] of cases) {
      const path = file(name, text);
      const err = failure(() => readSlurmConfig(path));
      expect(err.message, name).toMatch(message);
      expect(err.message, name).toContain(path);
      expect(err.file, name).toBe(path);
    }
    expect(failure(() => readSlurmConfig(join(dir, 'absent.json'))).code).toBe('not_found');
  });
});

describe('squeue output', () => {
  it('reads array tasks, wait statuses, restart counts and comments', () => {
    const rows = parseQueue(
      [
        '812_3|815|TIMEOUT|TimeLimit|36608|0|b1-aa|',
        '812_4|816|CANCELLED+|None|15|0|b1-aa|',
        '812_[5-9%2]|812|PENDING|Resources|0|0|b1-aa|',
        '812_10|812|PENDING|BeginTime|0|1|a|b|',
        '900|900|FAILED|NonZeroExitCode|256|0||',
        'garbage',
        '',
      ].join('\n'),
    );
    expect(rows).toEqual<QueueRow[]>([
      {
        key: '812_3',
        jobId: '815',
        state: 'TIMEOUT',
        reason: 'TimeLimit',
        exitCode: 143,
        signal: null,
        restarts: 0,
        comment: 'b1-aa',
      },
      {
        key: '812_4',
        jobId: '816',
        state: 'CANCELLED',
        reason: 'None',
        exitCode: 0,
        signal: 15,
        restarts: 0,
        comment: 'b1-aa',
      },
      {
        key: '812_[5-9%2]',
        jobId: '812',
        state: 'PENDING',
        reason: 'Resources',
        exitCode: null,
        signal: null,
        restarts: 0,
        comment: 'b1-aa',
      },
      {
        key: '812_10',
        jobId: '812',
        state: 'PENDING',
        reason: 'BeginTime',
        exitCode: null,
        signal: null,
        restarts: 1,
        comment: 'a|b',
      },
      {
        key: '900',
        jobId: '900',
        state: 'FAILED',
        reason: 'NonZeroExitCode',
        exitCode: 1,
        signal: null,
        restarts: 0,
        comment: '',
      },
    ]);
  });
});

describe('verdict on a task that ended without a result', () => {
  const row = (state: string, exit = 0, reason = 'None'): QueueRow =>
    parseQueue(`1_0|2|${state}|${reason}|${exit}|0||`)[0] as QueueRow;

  it('resubmits what says nothing about the candidate, and gives up on what would happen again', () => {
    const cases: [QueueRow | undefined, boolean, string, RegExp][] = [
      [undefined, true, 'lost', /disappeared from the queue/],
      [row('CANCELLED', 15), true, 'cancelled_by_slurm', /cancelled outside Emonas Studio/],
      [row('TIMEOUT', 143 << 8, 'TimeLimit'), true, 'time_limit', /reached its time limit of 90 minutes/],
      [row('PREEMPTED'), true, 'preempted', /preempted/],
      [row('NODE_FAIL'), true, 'node_failure', /its node failed/],
      [row('BOOT_FAIL'), true, 'node_failure', /its node failed/],
      [
        row('FAILED', 143 << 8),
        true,
        'interrupted',
        /stopped by a signal \(exit code 143\) and saved its checkpoint/,
      ],
      [row('FAILED', 9), true, 'worker_crashed', /state FAILED \(killed by signal 9\)/],
      [row('COMPLETED'), true, 'worker_crashed', /state COMPLETED without writing its result/],
      [
        row('FAILED', 1 << 8, 'NonZeroExitCode'),
        true,
        'worker_crashed',
        /\(exit code 1\) without writing its result \(reason NonZeroExitCode\)/,
      ],
      [row('OUT_OF_MEMORY', 9), false, 'out_of_memory', /ran out of memory .*"memoryGB"/],
      [row('DEADLINE'), false, 'deadline', /deadline/],
    ];
    for (const [input, retry, code, what] of cases) {
      const verdict = verdictFor(input, 90);
      expect(verdict.retry, `${input?.state}`).toBe(retry);
      expect(verdict.code, `${input?.state}`).toBe(code);
      expect(verdict.what, `${input?.state}`).toMatch(what);
    }
  });

  it("quotes the last lines of the task's log", () => {
    const path = join(temp.make(), 'job.log');
    writeFileSync(path, `${'x'.repeat(9000)}\nepoch 3\n\nslurmstepd: error: *** JOB 5 CANCELLED ***\n`);
    expect(logTail(path, 2)).toBe('epoch 3 / slurmstepd: error: *** JOB 5 CANCELLED ***');
    expect(logTail(join(temp.make(), 'none.log'))).toBe('');
  });
});

describe('job script', () => {
  const input = (logDir: string) => ({
    jobName: 'emonas-run',
    batchId: 'b1',
    batchDir: "/shared/it's here/batches/b1",
    size: 2,
    logPattern: `${logDir}/%A_%a.log`,
    config: { ...SLURM_DEFAULTS, gpusPerTask: 0 },
  });

  it('keeps paths with spaces, quotes and percent signs literal, and is valid bash', () => {
    const script = jobScript(input('/shared/100% sure/logs'));
    expect(script).toContain('#SBATCH --output="/shared/100%% sure/logs/%A_%a.log"');
    expect(script).not.toContain('--gres');
    expect(script).toContain(`--candidate '/shared/it'\\''s here/batches/b1/'"\${SLURM_ARRAY_TASK_ID}.json"`);
    const path = join(temp.make(), 'job.sbatch');
    writeFileSync(path, script);
    execFileSync('bash', ['-n', path]);
    // What the exec line hands to the worker, with the array index filled in.
    const args = execFileSync(
      'bash',
      ['-c', `SLURM_ARRAY_TASK_ID=1; set -- ${script.split('--candidate ')[1]?.split('\n')[0]}; echo "$1"`],
      {
        encoding: 'utf8',
      },
    );
    expect(args.trim()).toBe("/shared/it's here/batches/b1/1.json");
  });

  it('refuses a log folder whose path sbatch cannot take', () => {
    expect(failure(() => jobScript(input('/shared/"odd"/logs'))).message).toMatch(
      /holds a quote, backslash or line break/,
    );
  });
});
