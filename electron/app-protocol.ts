// Runs in: the Electron main process. The app:// protocol that serves the built renderer. A custom
// standard scheme rather than file:// gives the pages an origin of their own (app://emonas), so the IPC
// sender check and the Content-Security-Policy have something exact to match, and no page can read
// arbitrary files the way file:// pages can.
import { readFile, stat } from 'node:fs/promises';
import { CONTENT_SECURITY_POLICY } from '../core/api/content-policy.ts';
import { contentType, fileUnder } from '../core/transports/app-files.ts';

export const APP_SCHEME = 'app';
const APP_HOST = 'emonas';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** Node's URL gives non-special schemes an opaque origin, so scheme and host are compared instead. */
function isAppOrigin(url: URL): boolean {
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
}

/** Pages of the app itself: the app:// origin, nothing else (not file://, not the web). */
export function isAppUrl(url: string): boolean {
  try {
    return isAppOrigin(new URL(url));
  } catch {
    return false;
  }
}

/** The file under `root` an app:// URL names, or undefined when it names anything else. */
export function resolveAppFile(root: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!isAppOrigin(parsed)) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  return fileUnder(root, pathname);
}

/** Answers one app:// request from the renderer folder, with the policy on every response. */
export async function respondFromFolder(root: string, url: string): Promise<Response> {
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  const file = resolveAppFile(root, url);
  try {
    if (file !== undefined && (await stat(file)).isFile()) {
      const body = await readFile(file);
      return new Response(body, {
        headers: { ...headers, 'Content-Type': contentType(file) },
      });
    }
  } catch {
    // An unreadable file is answered like a missing one.
  }
  return new Response('Not found', { status: 404, headers });
}
