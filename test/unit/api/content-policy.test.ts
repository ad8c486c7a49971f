import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../core/api/content-policy.ts';

const directives = (policy: string) =>
  new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/) as [string, ...string[]])
      .map(([k, ...v]) => [k, v]),
  );

describe('the renderer content policy', () => {
  const policy = directives(CONTENT_SECURITY_POLICY);

  it('allows no remote content, no inline or eval script, and connections to this machine only', () => {
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    expect(policy.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*']);
    for (const [name, sources] of policy) {
      for (const source of sources) {
        // A bare wildcard or a bare ws: would open connections to anywhere; a port wildcard on loopback does not.
        expect(source, name).not.toMatch(/unsafe-inline|unsafe-eval|https?:|^\*$|^wss?:$/);
      }
    }
  });

  it('is also the policy of the page itself (less frame-ancestors, which a meta tag cannot carry)', () => {
    const html = readFileSync(new URL('../../../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const expected = new Map(policy);
    expected.delete('frame-ancestors');
    expect(directives(meta ?? '')).toEqual(expected);
  });
});
