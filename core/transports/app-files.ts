// Runs in: the engine (`emonas serve`) and the Electron main process. The built renderer's files as both
// ways of delivering the app hand them out (HTTP on 127.0.0.1, the desktop app's app:// protocol): which
// file under the renderer folder a request path names, never one outside it, and its content type.
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
}

/**
 * The file under `root` that a decoded request path names ('/' is index.html), or undefined when the path
 * leads outside `root` or holds a NUL.
 */
export function fileUnder(root: string, pathname: string): string | undefined {
  if (pathname.includes('\0')) return undefined;
  const file = normalize(join(root, pathname === '/' ? 'index.html' : pathname));
  return file.startsWith(normalize(root + sep)) ? file : undefined;
}
