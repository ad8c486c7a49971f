// Runs in: the emonas command's process. `emonas serve`: the engine's API over a WebSocket on 127.0.0.1,
// with the app's pages when they are built, until Ctrl-C.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EmonasError } from '../base/errors.ts';
import { parse, type Command } from './command.ts';

/** Where `npm run build:renderer` puts the app's pages. */
const UI_FOLDER = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the engine API (and the app) on 127.0.0.1 over a WebSocket with a random token',
  usage: `Usage: emonas serve [--port P] [--data-dir D] [--token T]

Runs the engine and exposes the same API as the desktop app over a WebSocket on 127.0.0.1 only. A random
token is printed at start; a connection without it is refused. When the app's pages are built
(npm run build:renderer), open the printed http:// address in a browser to use the app against this engine;
from another machine, forward the port through SSH (ssh -L P:127.0.0.1:P server).

Options:
  --port P       port to listen on (default: a free port)
  --data-dir D   where the dataset library lives (default: $EMONAS_DATA_DIR or ~/.emonas)
  --token T      use this token instead of a random one (16 to 128 letters, digits, - or _), so an app
                 left open reconnects by itself when the engine is restarted on the same port`,

  async run(argv) {
    const { values } = parse(
      'serve',
      argv,
      { port: { type: 'string' }, 'data-dir': { type: 'string' }, token: { type: 'string' } },
      false,
    );
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new EmonasError(
        'bad_request',
        `emonas serve: --port must be a whole number from 0 to 65535, not '${values.port}'.`,
      );
    }
    const token = values.token;
    if (token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
      throw new EmonasError(
        'bad_request',
        'emonas serve: --token must be 16 to 128 letters, digits, dashes or underscores; leave it out for a random one.',
      );
    }
    // Loaded here, not at the top: the engine pulls in the dataset and search code, which other commands
    // need not wait for.
    const { createEngine, defaultDataDir } = await import('../service/index.ts');
    const { startServer } = await import('../transports/websocket-server.ts');
    const engine = createEngine({ dataDir: values['data-dir'] ?? defaultDataDir() });
    const uiFolder = existsSync(`${UI_FOLDER}index.html`) ? UI_FOLDER : undefined;
    const server = await startServer({
      endpoint: engine,
      port,
      ...(uiFolder ? { uiFolder } : {}),
      ...(token ? { token } : {}),
    });

    process.stdout.write(`emonas serve: engine API on ws://127.0.0.1:${server.port}/api\n`);
    process.stdout.write(`token: ${server.token}\n`);
    process.stdout.write(`data folder: ${engine.dataDir}\n`);
    process.stdout.write(
      uiFolder
        ? `open the app: ${server.appUrl}\n`
        : 'the app pages are not built (npm run build:renderer); the API alone is served.\n',
    );
    process.stdout.write('Press Ctrl-C to stop.\n');

    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await engine.close();
    await server.close();
    return 0;
  },
};
