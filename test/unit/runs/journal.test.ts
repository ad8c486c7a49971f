import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmonasError } from '../../../core/base/errors.ts';
import { Journal, readJournal } from '../../../core/runs/journal.ts';

const dir = (): string => mkdtempSync(join(tmpdir(), 'emonas-journal-'));

describe('run journal', () => {
  it('appends one JSON line per record and reads them back', () => {
    const path = join(dir(), 'journal.jsonl');
    const { journal, records } = Journal.open(path);
    expect(records).toEqual([]);
    journal.append({ t: 'note', message: 'one', at: 'x' });
    journal.append({ t: 'finished', evaluated: 3, at: 'y' });
    journal.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    expect(readJournal(path).records.map((r) => r.t)).toEqual(['note', 'finished']);
  });

  it('cuts off a torn last line and reports it, so the next record starts clean', () => {
    const path = join(dir(), 'journal.jsonl');
    writeFileSync(path, '{"t":"note","message":"ok","at":"x"}\n{"t":"result","id":"g1-c');
    const opened = Journal.open(path);
    expect(opened.tornLine).toBe('{"t":"result","id":"g1-c');
    expect(opened.records).toHaveLength(1);
    opened.journal.append({ t: 'note', message: 'after', at: 'y' });
    opened.journal.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toBe('{"t":"note","message":"ok","at":"x"}\n{"t":"note","message":"after","at":"y"}\n');
  });

  it('treats a complete-looking last record without its newline as torn', () => {
    const path = join(dir(), 'journal.jsonl');
    writeFileSync(path, '{"t":"note","message":"ok","at":"x"}');
    expect(readJournal(path).tornLine).toBe('{"t":"note","message":"ok","at":"x"}');
    expect(readJournal(path).records).toEqual([]);
  });

  it('refuses a damaged line that is not the last, naming the line and the file', () => {
    const path = join(dir(), 'journal.jsonl');
    writeFileSync(path, '{"t":"note","message":"ok","at":"x"}\n{oops\n');
    appendFileSync(path, '{"t":"note","message":"later","at":"z"}\n');
    try {
      readJournal(path);
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as EmonasError).code).toBe('unreadable_file');
      expect((err as EmonasError).message).toContain('Line 2');
      expect((err as EmonasError).file).toBe(path);
    }
  });
});
