// Runs in: the engine. The append-only run journal (journal.jsonl): one JSON record per line, each written
// and fsync'ed before anything depends on it. Reading tolerates a torn last line (the engine was killed
// mid-write): it is cut off and reported, so the next append starts on a clean line.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { EmonasError } from '../base/errors.ts';
import type { EvaluateRequest, EvaluationOutcome, LogRequest } from '../search/protocol.ts';
import type { TaskHandle } from '../executors/executor.ts';

/** Decisions are deterministic: the same run replayed produces them again, byte for byte. */
export type DecisionRecord =
  | { t: 'decision'; seq: number; request: EvaluateRequest | LogRequest }
  | {
      t: 'prediction';
      seq: number;
      generation: number;
      fitKey: string;
      ids: string[];
      mean: number[];
      std: number[];
    };

export type JournalRecord =
  | DecisionRecord
  | { t: 'submitted'; id: string; handle: TaskHandle; at: string }
  | { t: 'result'; id: string; outcome: EvaluationOutcome; at: string; seconds?: number }
  | { t: 'note'; message: string; at: string }
  | { t: 'finished'; evaluated: number; at: string };

export interface JournalContents {
  records: JournalRecord[];
  /** Set when a torn last line was found (and cut off, if the journal was opened for writing). */
  tornLine: string | null;
}

/** Reads a journal; a line other than the last that is not JSON means the file was damaged, and says where. */
export function readJournal(path: string): JournalContents & { validBytes: number } {
  if (!existsSync(path)) return { records: [], tornLine: null, validBytes: 0 };
  const bytes = readFileSync(path);
  const end = bytes.lastIndexOf(0x0a) + 1;
  const text = bytes.subarray(0, end).toString('utf8');
  const tail = bytes.subarray(end).toString('utf8');
  const records: JournalRecord[] = [];
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      throw new EmonasError(
        'unreadable_file',
        `Line ${i + 1} of the run journal is not valid JSON, so the run cannot be resumed exactly; restore the file from a backup or start a new run.`,
        { file: path },
      );
    }
  });
  return { records, tornLine: tail.length > 0 ? tail : null, validBytes: end };
}

export class Journal {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens for appending after reading what is there; a torn last line is cut off. */
  static open(path: string): { journal: Journal } & JournalContents {
    const contents = readJournal(path);
    if (contents.tornLine !== null) truncateSync(path, contents.validBytes);
    return {
      journal: new Journal(path, openSync(path, 'a')),
      records: contents.records,
      tornLine: contents.tornLine,
    };
  }

  append(record: JournalRecord): void {
    if (this.fd === null)
      throw new EmonasError('internal', 'The run journal is closed.', { file: this.path });
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export function isDecision(record: JournalRecord): record is DecisionRecord {
  return record.t === 'decision' || record.t === 'prediction';
}
