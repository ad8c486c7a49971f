// Runs in: a test process. Debian's Chromium, headless, as this machine allows it: every background
// connection off (the network is closed), SwiftShader for WebGL, a fresh profile per launch; and its page
// watched for what an end-to-end file fails on.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'emonas-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** Fails the file at once, saying what to install, where Debian's Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The end-to-end tests need Debian's Chromium at ${CHROMIUM}: apt-get install chromium (CI does).`,
    );
  }
}

/** What a page did that an end-to-end file fails on: both stay empty in a good run. */
export interface PageProblems {
  /** Console errors and warnings, and uncaught page errors. */
  console: string[];
  /** Requests to anywhere but this machine. */
  foreign: string[];
}

/**
 * Chromium with its page watched from the start: console errors and warnings (but those `harmless`
 * matches), page errors, and requests that leave this machine.
 */
export async function openWatchedPage(
  harmless?: RegExp,
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await launchChromium();
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: PageProblems = { console: [], foreign: [] };
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !harmless?.test(m.text())) {
      problems.console.push(m.text());
    }
  });
  page.on('pageerror', (e) => problems.console.push(e.message));
  page.on('request', (r) => {
    // blob:, data: and file: URLs stay in the page; blob: ones are Cornerstone's own workers and data.
    if (!/^(blob:)?(http|ws):\/\/127\.0\.0\.1:/.test(r.url()) && !/^(file|data):/.test(r.url())) {
      problems.foreign.push(r.url());
    }
  });
  return { context, page, problems };
}
