import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../core/api/content-policy.ts';
import { isAppUrl, resolveAppFile, respondFromFolder } from '../../../electron/app-protocol.ts';

describe('the app:// protocol', () => {
  const root = mkdtempSync(join(tmpdir(), 'emonas-app-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'assets', 'index.js'), 'export {}');
  writeFileSync(join(root, '..', 'emonas-outside.txt'), 'outside');

  it('trusts app://emonas pages only', () => {
    expect(isAppUrl('app://emonas/index.html')).toBe(true);
    expect(isAppUrl('app://emonas/index.html?x#y')).toBe(true);
    for (const url of [
      'app://other/index.html',
      'file:///index.html',
      'https://emonas/',
      'http://127.0.0.1/',
      'nonsense',
      '',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });

  it('maps URLs to files inside the renderer folder and nothing outside', () => {
    expect(resolveAppFile(root, 'app://emonas/')).toBe(join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://emonas/assets/index.js?v=1')).toBe(join(root, 'assets', 'index.js'));
    for (const url of [
      'app://emonas/../emonas-outside.txt',
      'app://emonas/..%2femonas-outside.txt',
      'app://emonas/assets/..%2f..%2femonas-outside.txt',
      'app://emonas/%00',
      'app://emonas/%E0%A4%A',
      'app://evil/index.html',
      'file:///etc/passwd',
    ]) {
      const file = resolveAppFile(root, url);
      expect(file === undefined || file.startsWith(root + '/'), url).toBe(true);
      expect(file, url).not.toBe(join(root, '..', 'emonas-outside.txt'));
    }
  });

  it('answers with the content policy and the right type, and 404 for anything else', async () => {
    const page = await respondFromFolder(root, 'app://emonas/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(
      (await respondFromFolder(root, 'app://emonas/assets/index.js')).headers.get('content-type'),
    ).toContain('javascript');
    for (const url of [
      'app://emonas/missing.js',
      'app://emonas/assets',
      'app://emonas/..%2femonas-outside.txt',
    ]) {
      const res = await respondFromFolder(root, url);
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
  });
});
