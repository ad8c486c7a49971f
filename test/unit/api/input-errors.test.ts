// Wrong inputs are answered at once, in words, with a typed error: a search's dataset folder, a frame nested
// too deep, a configuration too large, and any file-system error on its way to a user.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunSummary } from '../../../core/api/runs.ts';
import { runStatus } from '../../../core/cli/cmd-runs.ts';
import { runsIn } from '../../../core/service/runs.ts';
import { decodeMessage, MAX_NESTING, parseRequest } from '../../../core/api/wire.ts';
import { EmonasError, fileSystemError, toErrorData } from '../../../core/base/errors.ts';
import { createEngine, type Engine } from '../../../core/service/index.ts';
import { startServer, type RunningServer } from '../../../core/transports/websocket-server.ts';

const engines: Engine[] = [];
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const engine of engines.splice(0)) await engine.close();
});

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'emonas-input-errors-'));
  const logs: string[] = [];
  const engine = createEngine({ dataDir, log: (m) => logs.push(m) });
  engines.push(engine);
  const started: unknown[] = [];
  engine.on('run.started', (p) => started.push(p));
  return { dataDir, engine, logs, started };
}

/** A binary Emonas frame around a header, as wire.ts lays it out. */
function binaryFrame(header: string): Uint8Array {
  const bytes = new TextEncoder().encode(header);
  const frame = new Uint8Array(Math.ceil((8 + bytes.length) / 8) * 8);
  frame.set([0x45, 0x4d, 0x4e, 0x31], 0);
  new DataView(frame.buffer).setUint32(4, bytes.length, true);
  frame.set(bytes, 8);
  return frame;
}

const DEEP = 200_000;
const deepRequest = `{"id":7,"method":"run.list","input":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`;

describe('search.start checks its dataset folder before it answers', () => {
  it('refuses a missing, a relative and a not-a-folder dataset with a sentence, starting nothing', async () => {
    const { engine, dataDir, started } = setup();
    const file = join(dataDir, 'notes.txt');
    writeFileSync(file, 'not a dataset');
    const cases: [string, string, string][] = [
      ['/nonexistent/emonas/Task04', 'not_found', '/nonexistent/emonas/Task04 does not exist'],
      ['data/Task04', 'bad_request', "The dataset folder 'data/Task04' is not a full path"],
      [file, 'bad_request', `The dataset ${file} is a file, not a folder`],
    ];
    for (const [dataset, code, words] of cases) {
      const answer = await engine.call('search.start', { problem: { kind: 'dataset', dataset } });
      expect(answer, dataset).toMatchObject({ ok: false, error: { code } });
      expect(!answer.ok && answer.error.message, dataset).toContain(words);
    }
    expect(started).toEqual([]);
    const runs = await engine.call('run.list', {});
    expect(runs).toEqual({ ok: true, value: [] });
  });

  it('keeps a run that failed while preparing in run.list, with its reason', async () => {
    const { engine, dataDir } = setup();
    const empty = join(dataDir, 'empty-dataset');
    mkdirSync(empty);
    const failed = new Promise<{ run: RunSummary; error: { message: string } }>((resolve) =>
      engine.on('run.failed', resolve),
    );
    const answer = await engine.call('search.start', { problem: { kind: 'dataset', dataset: empty } });
    if (!answer.ok) throw new Error(`expected the search to start, got ${answer.error.message}`);
    const { run, error } = await failed;
    expect(run).toMatchObject({ runId: answer.value.runId, state: 'failed', reason: error.message });
    expect(error.message).toContain(empty);
    const listed = await engine.call('run.list', {});
    if (!listed.ok) throw new Error(listed.error.message);
    expect(listed.value.map((r) => [r.runId, r.state, r.reason])).toEqual([
      [answer.value.runId, 'failed', error.message],
    ]);
    expect(await engine.call('run.get', { runId: answer.value.runId })).toMatchObject({
      ok: true,
      value: { summary: { state: 'failed', reason: error.message } },
    });

    // The next engine over the same data folder still lists it, from <run>/failed.json.
    await engine.close();
    const next = createEngine({ dataDir, log: () => undefined });
    engines.push(next);
    const relisted = await next.call('run.list', {});
    if (!relisted.ok) throw new Error(relisted.error.message);
    expect(relisted.value).toEqual([{ ...run, state: 'failed', reason: error.message }]);
    expect(await next.call('search.resume', { runId: run.runId })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('failed before it began') },
    });
    // The command line lists it too (emonas runs over the engine's runs folder).
    expect(runsIn(join(dataDir, 'runs')).map((r) => [r.id, runStatus(r), r.failure])).toEqual([
      [run.runId, 'failed', error.message],
    ]);
    expect(runsIn(run.runDir).map((r) => [r.id, runStatus(r)])).toEqual([[run.runId, 'failed']]);
    // Cancelling it dismisses it, and the folder made only to keep its reason goes with it.
    expect(await next.call('search.cancel', { runId: run.runId })).toMatchObject({
      ok: true,
      value: { state: 'cancelled' },
    });
    expect(await next.call('run.list', {})).toEqual({ ok: true, value: [] });
    expect(existsSync(run.runDir)).toBe(false);
  });
});

describe('nesting and size are checked before anything recurses', () => {
  it('refuses a frame nested 200k deep, binary or text, as a bad request', () => {
    for (const frame of [binaryFrame(deepRequest), deepRequest]) {
      let caught: unknown;
      try {
        parseRequest(frame);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(EmonasError);
      expect(toErrorData(caught)).toMatchObject({
        code: 'bad_request',
        message: expect.stringContaining(`nested more than ${MAX_NESTING} levels deep`),
      });
    }
    const shallow = `{"id":8,"method":"run.list","input":{"a":${'['.repeat(MAX_NESTING - 3)}${']'.repeat(MAX_NESTING - 3)}}}`;
    expect(parseRequest(shallow)).toMatchObject({ id: 8, method: 'run.list' });
    expect(decodeMessage(binaryFrame(shallow))).toMatchObject({ id: 8 });
  });

  it('answers the deep frame over the WebSocket with a typed error and stays up', async () => {
    const { engine } = setup();
    server = await startServer({ endpoint: engine });
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(server!.apiUrl);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
    const answers: unknown[] = [];
    const two = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        answers.push(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8')));
        if (answers.length === 2) resolve();
      }),
    );
    ws.send(binaryFrame(deepRequest));
    ws.send(JSON.stringify({ id: 9, method: 'run.list', input: {} }));
    await two;
    ws.close();
    expect(answers[0]).toMatchObject({
      id: -1,
      result: { ok: false, error: { code: 'bad_request', message: expect.stringContaining('nested') } },
    });
    expect(JSON.stringify(answers[0])).not.toContain('Maximum call stack');
    expect(answers[1]).toEqual({ id: 9, result: { ok: true, value: [] } });
  });

  it('says what is too large in a configuration, and the limit', async () => {
    const { engine } = setup();
    const config = { notes: 'x'.repeat(200_000) };
    const answer = await engine.call('search.start', { config });
    expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request', details: { field: 'config' } } });
    const message = !answer.ok ? answer.error.message : '';
    expect(message).toMatch(
      /^The request field 'config' is 2000\d\d bytes of JSON; the limit is 100000 bytes\.$/,
    );
    expect(message).not.toContain('a object');
    const notObject = await engine.callUnknown('search.start', { config: [1] });
    expect(!notObject.ok && notObject.error.message).toContain('but it was a list');
    const wrongField = await engine.callUnknown('search.start', { workers: {} });
    expect(!wrongField.ok && wrongField.error.message).toContain('but it was an object.');
  });
});

describe('file-system errors reach a user in words', () => {
  it('turns each error code into a sentence naming the path', () => {
    const cases: [string, string, string][] = [
      ['ENOENT', 'not_found', '/a/b does not exist'],
      ['ENOTDIR', 'bad_request', '/a/b is not a folder'],
      ['EISDIR', 'bad_request', '/a/b is a folder, where a file was expected'],
      ['EACCES', 'unreadable_file', 'Permission denied for /a/b'],
      ['EEXIST', 'exists', '/a/b already exists'],
      ['ENOSPC', 'disk_full', 'The disk holding /a/b is full'],
    ];
    for (const [code, kind, words] of cases) {
      const raw = Object.assign(new Error(`${code}: raw, open '/a/b'`), { code, path: '/a/b' });
      const data = toErrorData(raw);
      expect(data, code).toMatchObject({ code: kind, file: '/a/b' });
      expect(data.message, code).toContain(words);
      expect(data.message, code).not.toContain(code);
    }
    expect(fileSystemError(new Error('plain'))).toBeUndefined();
    expect(toErrorData(new Error('plain'))).toEqual({ code: 'internal', message: 'plain' });
  });

  it('answers a file-system failure inside a method in words, logging no stack trace', async () => {
    const { engine, dataDir, logs } = setup();
    // The engine's runs folder is a file: listing runs fails in the file system itself.
    writeFileSync(join(dataDir, 'runs'), 'in the way');
    const answer = await engine.call('run.list', {});
    expect(answer.ok).toBe(false);
    const error = !answer.ok ? answer.error : undefined;
    expect(error?.code).not.toBe('internal');
    expect(error?.message).toContain(join(dataDir, 'runs'));
    expect(error?.message).not.toMatch(/^E[A-Z]+:/);
    expect(logs.filter((m) => m.includes('    at '))).toEqual([]);
  });
});
