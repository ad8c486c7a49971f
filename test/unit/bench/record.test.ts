import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { provenance, RECORD_SETTINGS_FILE, RecordFolder } from '../../../bench/record.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'emonas-record-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('RecordFolder', () => {
  it('keeps items across openings and records the dataset relative to itself', async () => {
    const dir = join(root, 'repo', 'bench', 'measured', 'x');
    const settings = { dataset: join(root, 'shared', 'data', 'Task04'), minutes: 9 };
    const first = await RecordFolder.open(dir, settings);
    expect(first.has('samea-seed1')).toBe(false);
    expect(await first.read('samea-seed1')).toBeNull();
    await first.write('samea-seed1', { dice: 0.8 });
    await first.write('cheap-6x15/small', { epochs: 6 });

    const again = await RecordFolder.open(dir, settings);
    expect(again.has('samea-seed1')).toBe(true);
    expect(await again.read('samea-seed1')).toEqual({ dice: 0.8 });
    expect(await again.read('cheap-6x15/small')).toEqual({ epochs: 6 });
    const written = JSON.parse(await readFile(join(dir, RECORD_SETTINGS_FILE), 'utf8')) as {
      dataset: string;
    };
    expect(written.dataset).toBe(join('..', '..', '..', '..', 'shared', 'data', 'Task04'));
  });

  it('records a dataset given relative to the working folder as the same folder', async () => {
    const dir = join(root, 'rec');
    await RecordFolder.open(dir, { dataset: relative(process.cwd(), join(root, 'data')) });
    await expect(RecordFolder.open(dir, { dataset: join(root, 'data') })).resolves.toBeInstanceOf(
      RecordFolder,
    );
    const written = JSON.parse(await readFile(join(dir, RECORD_SETTINGS_FILE), 'utf8')) as {
      dataset: string;
    };
    expect(written.dataset).toBe(join('..', 'data'));
  });

  it('refuses items whose settings are not known, and the settings file as an item', async () => {
    const dir = join(root, 'rec');
    await mkdir(dir);
    await writeFile(join(dir, 'samea-seed1.json'), '{}');
    await expect(RecordFolder.open(dir, { dataset: 'data' })).rejects.toThrow(
      /holds files but no settings\.json/,
    );
    const record = await RecordFolder.open(join(root, 'other'), { dataset: 'data' });
    await expect(record.write('settings', {})).rejects.toThrow(/not a record item's name/);
  });

  it('refuses measurements made with other settings, naming the record', async () => {
    const dir = join(root, 'rec');
    await RecordFolder.open(dir, { dataset: 'data', minutes: 9 });
    await expect(RecordFolder.open(dir, { dataset: 'data', minutes: 5 })).rejects.toThrow(
      /holds measurements made with other settings.*settings\.json/s,
    );
  });

  it('names an item that cannot be read, and refuses names that leave the record', async () => {
    const record = await RecordFolder.open(join(root, 'rec'), { dataset: 'data' });
    await writeFile(join(record.dir, 'broken.json'), '{ not json');
    await expect(record.read('broken')).rejects.toThrow(/broken\.json cannot be read/);
    for (const name of ['../outside', '/etc/passwd', 'a/../../b', '']) {
      expect(() => record.has(name), name).toThrow(/not a record item's name/);
    }
  });
});

describe('provenance', () => {
  it('names the checkout this test runs from and the machine', () => {
    // The tests run from a git checkout (a clean clone in CI); outside one the commit is null.
    expect(existsSync(join(import.meta.dirname, '..', '..', '..', '.git'))).toBe(true);
    const { commit, machine } = provenance();
    expect(commit).toMatch(/^[0-9a-f]{12}(\+changes)?$/);
    expect(machine.cores).toBeGreaterThan(0);
    expect(machine.cpu).not.toBe('');
  });
});
