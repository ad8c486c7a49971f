// Runs in: the engine (`emonas serve`). The API over a WebSocket on 127.0.0.1, guarded by a random token, so
// the renderer can run in any Chromium (end-to-end tests, an engine on a GPU server reached through an SSH
// tunnel). The same HTTP port serves the built renderer, whose address carries the token.
//
// Protocol (core/api/wire.ts): the client connects to ws://127.0.0.1:<port>/api?token=<token>, sends
// `{ id, method, input }` text frames and gets `{ id, result }` back (a binary frame when the result holds
// typed arrays); events arrive as `{ event, payload }`. A request whose id cannot be read is answered with
// id -1.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { EmonasError, toErrorData } from '../base/errors.ts';
import type { ApiEndpoint } from '../api/client.ts';
import { CONTENT_SECURITY_POLICY } from '../api/content-policy.ts';
import { fail } from '../api/envelope.ts';
import { encodeMessage, parseRequest, type ServerMessage } from '../api/wire.ts';
import { contentType, fileUnder } from './app-files.ts';

export const API_PATH = '/api';
const HOST = '127.0.0.1';
/** Requests are small JSON; anything bigger is not a request. */
const MAX_REQUEST_BYTES = 1 << 20;
/** A client this far behind gets no more events until it catches up (answers are always sent). */
const MAX_BUFFERED_EVENT_BYTES = 64 << 20;

export interface ServeOptions {
  endpoint: ApiEndpoint;
  /** 0 picks a free port. */
  port?: number;
  /** Defaults to 32 random bytes, hex. */
  token?: string;
  /** The built renderer (index.html and assets), served at /; absent: only the WebSocket is served. */
  uiFolder?: string;
}

export interface RunningServer {
  port: number;
  token: string;
  /** The WebSocket address, token included. */
  apiUrl: string;
  /** The app's address in a browser, token included (meaningful when a uiFolder is served). */
  appUrl: string;
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const server = createServer((req, res) => {
    void serveFile(req, res, options.uiFolder);
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  const port = () => (server.address() as { port: number }).port;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refuseUpgrade(req, token, port());
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attach(ws, options.endpoint));
  });

  await new Promise<void>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new EmonasError(
              'conflict',
              `Port ${options.port} on ${HOST} cannot be used (${err.code === 'EACCES' ? 'not permitted' : 'another program listens there'}); choose another port, or leave it out to get a free one.`,
            )
          : err,
      );
    server.once('error', refuse);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', refuse);
      resolve();
    });
  });

  const unsubscribe = options.endpoint.onAnyEvent((event, payload) => {
    const frame = encodeMessage({ event, payload });
    for (const socket of sockets.clients) {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED_EVENT_BYTES)
        socket.send(frame);
    }
  });

  return {
    port: port(),
    token,
    apiUrl: `ws://${HOST}:${port()}${API_PATH}?token=${token}`,
    appUrl: `http://${HOST}:${port()}/?token=${token}`,
    async close() {
      unsubscribe();
      for (const socket of sockets.clients) socket.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function attach(ws: WebSocket, endpoint: ApiEndpoint): void {
  ws.on('message', (data: RawData, isBinary: boolean) => {
    void answer(ws, endpoint, data, isBinary);
  });
  // A client that goes away mid-answer must not take the engine down with it.
  ws.on('error', () => ws.terminate());
}

async function answer(ws: WebSocket, endpoint: ApiEndpoint, data: RawData, isBinary: boolean): Promise<void> {
  const bytes = Buffer.isBuffer(data)
    ? data
    : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
  let message: ServerMessage;
  try {
    const request = parseRequest(isBinary ? new Uint8Array(bytes) : bytes.toString('utf8'));
    message = { id: request.id, result: await endpoint.callUnknown(request.method, request.input) };
  } catch (err) {
    message = { id: -1, result: fail(toErrorData(err)) };
  }
  if (ws.readyState === ws.OPEN) ws.send(encodeMessage(message));
}

/** Why an upgrade is refused (an HTTP status line), or undefined to accept it. */
function refuseUpgrade(req: IncomingMessage, token: string, port: number): string | undefined {
  const url = new URL(req.url ?? '/', `http://${HOST}`);
  if (url.pathname !== API_PATH) return '404 Not Found';
  if (!isLoopbackHost(req.headers.host, port)) return '403 Forbidden';
  const origin = req.headers.origin;
  if (origin !== undefined && !isTrustedOrigin(origin)) return '403 Forbidden';
  const given = Buffer.from(url.searchParams.get('token') ?? '');
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return '401 Unauthorized';
  return undefined;
}

/** Only names that resolve to this machine, which defeats DNS rebinding from a web page. */
function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host === `${HOST}:${port}` || host === `localhost:${port}`;
}

/** Pages of this engine, the desktop app, or another local port (a development server). */
function isTrustedOrigin(origin: string): boolean {
  if (origin === 'app://emonas') return true;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && (url.hostname === HOST || url.hostname === 'localhost');
  } catch {
    return false;
  }
}

async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  uiFolder: string | undefined,
): Promise<void> {
  const headers = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
  const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { ...headers, 'Content-Type': type });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Only GET is served here.');
  if (uiFolder === undefined) {
    return send(404, 'This engine serves the API only, at ' + API_PATH + '; the app pages are not built.');
  }
  const pathname = decodePath(req.url);
  if (pathname === undefined) return send(400, 'Bad path.');
  const file = fileUnder(uiFolder, pathname);
  if (file === undefined) return send(404, 'Not found.');
  try {
    if (!(await stat(file)).isFile()) return send(404, 'Not found.');
    const body = await readFile(file);
    return send(200, body, contentType(file));
  } catch {
    return send(404, 'Not found.');
  }
}

function decodePath(url: string | undefined): string | undefined {
  try {
    const pathname = decodeURIComponent(new URL(url ?? '/', `http://${HOST}`).pathname);
    return pathname.includes('\0') ? undefined : pathname;
  } catch {
    return undefined;
  }
}
