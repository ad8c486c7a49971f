import { describe, expect, it } from 'vitest';
import { fail } from '../../../core/api/envelope.ts';
import { ImportWizard, suggestName } from '../../../renderer/src/state/import-wizard.svelte.ts';
import { FakeClient, ok, sampleRecord, sampleReport } from './fake-client.ts';

describe('the import wizard state', () => {
  it('inspects the folder, shows the report, suggests a name and imports under it', async () => {
    const client = new FakeClient({
      'dataset.inspect': () => ok(sampleReport()),
      'dataset.import': () => ok(sampleRecord()),
    });
    const wizard = new ImportWizard(client, false);
    wizard.folder = '  /data/Task04_Hippocampus ';
    await wizard.inspect();
    expect(client.calls[0]).toEqual({
      method: 'dataset.inspect',
      input: { folder: '/data/Task04_Hippocampus' },
    });
    expect(wizard.step).toBe('report');
    expect(wizard.report?.summary.usable).toBe(1);
    expect(wizard.name).toBe('Hippocampus');
    expect(wizard.nameProblem).toBeNull();
    wizard.copy = true;
    await wizard.importDataset();
    expect(client.calls[1]).toEqual({
      method: 'dataset.import',
      input: { folder: '/data/Task04_Hippocampus', name: 'Hippocampus', copy: true },
    });
    expect(wizard.step).toBe('done');
    expect(wizard.record?.name).toBe('Hippocampus');
  });

  it('keeps the user on the folder step with the engine sentence when inspection fails', async () => {
    const error = {
      code: 'invalid_dataset' as const,
      message: 'The folder /x holds no dataset.json.',
      file: '/x',
    };
    const wizard = new ImportWizard(new FakeClient({ 'dataset.inspect': () => fail(error) }), false);
    wizard.folder = '/x';
    await wizard.inspect();
    expect(wizard.step).toBe('folder');
    expect(wizard.error).toEqual(error);
  });

  it('asks for a folder before calling the engine', async () => {
    const client = new FakeClient();
    const wizard = new ImportWizard(client, false);
    await wizard.inspect();
    expect(client.calls).toHaveLength(0);
    expect(wizard.error?.message).toMatch(/Enter the full path/);
  });

  it('shows progress for its own folder only, and stops listening when done', async () => {
    let release: () => void = () => undefined;
    const client = new FakeClient({
      'dataset.inspect': () => new Promise((resolve) => (release = () => resolve(ok(sampleReport())))),
    });
    const wizard = new ImportWizard(client, false);
    wizard.folder = '/data/Task04_Hippocampus';
    const done = wizard.inspect();
    expect(wizard.step).toBe('inspecting');
    client.emit('inspection.progressed', { folder: '/elsewhere', done: 9, total: 9 });
    expect(wizard.progress).toBeNull();
    client.emit('inspection.progressed', { folder: '/data/Task04_Hippocampus', done: 3, total: 200 });
    expect(wizard.progress).toEqual({ done: 3, total: 200 });
    release();
    await done;
    expect(client.listenerCount('inspection.progressed')).toBe(0);
  });

  it('returns to the report with the reason when the import is refused', async () => {
    const client = new FakeClient({
      'dataset.inspect': () => ok(sampleReport()),
      'dataset.import': () =>
        fail({ code: 'conflict', message: "A dataset named 'Hippocampus' is already in the library." }),
    });
    const wizard = new ImportWizard(client, false);
    wizard.folder = '/data/Task04_Hippocampus';
    await wizard.inspect();
    await wizard.importDataset();
    expect(wizard.step).toBe('report');
    expect(wizard.error?.code).toBe('conflict');
  });

  it('does not import under a name the library refuses', async () => {
    const client = new FakeClient({ 'dataset.inspect': () => ok(sampleReport()) });
    const wizard = new ImportWizard(client, false);
    wizard.folder = '/d';
    await wizard.inspect();
    for (const name of ['', '../x', 'a/b']) {
      wizard.name = name;
      expect(wizard.nameProblem, name).not.toBeNull();
      await wizard.importDataset();
    }
    expect(client.calls.map((c) => c.method)).toEqual(['dataset.inspect']);
  });

  it('fills the folder from the native dialog, and keeps it when the dialog is closed', async () => {
    const answers = ['/chosen/folder', null];
    const client = new FakeClient({ 'app.chooseFolder': () => ok({ folder: answers.shift() ?? null }) });
    const wizard = new ImportWizard(client, true);
    await wizard.chooseFolder();
    expect(wizard.folder).toBe('/chosen/folder');
    await wizard.chooseFolder();
    expect(wizard.folder).toBe('/chosen/folder');
  });

  it.each([
    ['Hippocampus', 'Hippocampus'],
    ['ACDC: cardiac / MRI', 'ACDC cardiac MRI'],
    ['  __x__  ', 'x'],
    ['€€€', 'dataset'],
    ['a'.repeat(80), 'a'.repeat(64)],
  ])('suggests a library name for %j', (input, expected) => {
    expect(suggestName(input)).toBe(expected);
  });
});
