import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('emonas command', () => {
  it('prints help and exits 0', () => {
    const r = spawnSync('npx', ['emonas', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: emonas <command>');
  });

  it('rejects an unknown command with a one-line reason and status 2', () => {
    const r = spawnSync('npx', ['emonas', 'no-such-command'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown command 'no-such-command'");
  });
});
