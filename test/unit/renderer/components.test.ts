import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import { fail } from '../../../core/api/envelope.ts';
import App from '../../../renderer/src/App.svelte';
import ErrorNotice from '../../../renderer/src/components/ErrorNotice.svelte';
import ImportWizardView from '../../../renderer/src/components/ImportWizard.svelte';
import SettingsPage from '../../../renderer/src/components/SettingsPage.svelte';
import ValidationReport from '../../../renderer/src/components/ValidationReport.svelte';
import { ImportWizard } from '../../../renderer/src/state/import-wizard.svelte.ts';
import { Session } from '../../../renderer/src/state/session.svelte.ts';
import { SettingsState } from '../../../renderer/src/state/settings.svelte.ts';
import { FakeClient, ok, sampleRecord, sampleReport } from './fake-client.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
    await tick();
  }
};

describe('ErrorNotice', () => {
  it('shows the engine sentence and the way forward, naming a file the sentence leaves out', () => {
    render(ErrorNotice, {
      error: {
        code: 'unreadable_file',
        message: 'The image cannot be read: it ends early.',
        file: '/d/a.nii.gz',
      },
    });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('The image cannot be read: it ends early.');
    expect(alert.textContent).toContain('/d/a.nii.gz');
    expect(alert.textContent).toContain('download it again');
  });
});

describe('ValidationReport', () => {
  it('lists kind, labels, counts and every problem of every case with its file', () => {
    render(ValidationReport, { report: sampleReport() });
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe(
      'Hippocampus: Medical Segmentation Decathlon task',
    );
    expect(screen.getByText('0 background, 1 Anterior, 2 Posterior')).toBeTruthy();
    expect(screen.getByTestId('usable-count').textContent).toBe('1 case of 2');
    expect(screen.getByTestId('broken-count').textContent).toBe('1 case');
    expect(screen.getByText('35 × 51 × 35 voxels')).toBeTruthy();
    expect(screen.getByText(/dataset.json lists imagesTr\/hippocampus_009/)).toBeTruthy();
    const table = screen.getByRole('heading', { name: /1 case with problems/ })
      .nextElementSibling as HTMLElement;
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]?.textContent).toContain('hippocampus_002');
    expect(rows[0]?.textContent).toContain('value 7');
    expect(rows[1]?.textContent).toContain('not on the grid');
    expect(rows[1]?.textContent).toContain('labelsTr/hippocampus_002.nii.gz');
  });
});

describe('ImportWizard', () => {
  function setup(canChoose = false) {
    const client = new FakeClient({
      'dataset.inspect': ({ folder }) =>
        folder === '/bad'
          ? fail({ code: 'not_found', message: 'The folder /bad does not exist.', file: '/bad' })
          : ok(sampleReport()),
      'dataset.import': ({ name }) => ok(sampleRecord(name)),
    });
    const wizard = new ImportWizard(client, canChoose);
    let closed = 0;
    render(ImportWizardView, { wizard, onclose: () => closed++ });
    return { client, wizard, closed: () => closed };
  }

  it('walks from folder to report to import by keyboard-reachable controls', async () => {
    const { client } = setup();
    expect(screen.queryByRole('button', { name: 'Browse…' })).toBeNull();
    const folder = screen.getByLabelText('Dataset folder');
    await fireEvent.input(folder, { target: { value: '/data/Task04_Hippocampus' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Check the folder' }));
    await settle();
    expect(screen.getByTestId('usable-count').textContent).toBe('1 case of 2');
    const name = screen.getByLabelText('Name in the library') as HTMLInputElement;
    expect(name.value).toBe('Hippocampus');
    await fireEvent.input(name, { target: { value: 'Hippo v1' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import 1 usable case' }));
    await settle();
    expect(screen.getByRole('status').textContent).toContain('Hippo v1 is in the library with 1 usable case');
    expect(client.calls.at(-1)).toEqual({
      method: 'dataset.import',
      input: { folder: '/data/Task04_Hippocampus', name: 'Hippo v1', copy: false },
    });
  });

  it('shows an engine error as a sentence with the way forward, on the folder step', async () => {
    setup();
    await fireEvent.input(screen.getByLabelText('Dataset folder'), { target: { value: '/bad' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Check the folder' }));
    await settle();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('The folder /bad does not exist.');
    expect(alert.textContent).toContain('Check that the path exists');
    expect(screen.getByLabelText('Dataset folder')).toBeTruthy();
  });

  it('disables the import while the name is unusable, saying why', async () => {
    setup();
    await fireEvent.input(screen.getByLabelText('Dataset folder'), { target: { value: '/d' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Check the folder' }));
    await settle();
    await fireEvent.input(screen.getByLabelText('Name in the library'), { target: { value: '../etc' } });
    expect((screen.getByRole('button', { name: /^Import/ }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText(/Use a name of 1 to 64 letters/)).toBeTruthy();
  });

  it('refuses to import a folder with no usable case', async () => {
    const client = new FakeClient({
      'dataset.inspect': () => ok(sampleReport({ summary: { ...sampleReport().summary, usable: 0 } })),
    });
    const wizard = new ImportWizard(client, false);
    render(ImportWizardView, { wizard, onclose: () => undefined });
    await fireEvent.input(screen.getByLabelText('Dataset folder'), { target: { value: '/d' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Check the folder' }));
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('No case can be used for training');
    expect(screen.queryByRole('button', { name: /^Import/ })).toBeNull();
  });

  it('offers the native folder dialog in the desktop app', async () => {
    const client = new FakeClient({ 'app.chooseFolder': () => ok({ folder: '/picked' }) });
    render(ImportWizardView, { wizard: new ImportWizard(client, true), onclose: () => undefined });
    await fireEvent.click(screen.getByRole('button', { name: 'Browse…' }));
    await settle();
    expect((screen.getByLabelText('Dataset folder') as HTMLInputElement).value).toBe('/picked');
  });
});

describe('SettingsPage', () => {
  it('shows the backend in use and why each other one is unavailable', async () => {
    const client = new FakeClient({
      'app.doctor': () =>
        ok({
          backend: 'cpu',
          backends: [
            { name: 'tensorflow-gpu', available: false, reason: 'The optional package is not installed.' },
            { name: 'cpu', available: true },
          ],
          engine: { version: '0.1.0', node: 'v20.20.2', platform: 'linux x64', cpus: 2, memoryGb: 7.5 },
        }),
    });
    render(SettingsPage, { settings: new SettingsState(client), connection: 'inside the desktop app' });
    await settle();
    expect(screen.getByText(/Training runs on/).textContent).toBe('Training runs on cpu.');
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows[0]?.textContent).toContain('unavailable');
    expect(rows[0]?.textContent).toContain('The optional package is not installed.');
    expect(rows[1]?.textContent).toContain('in use');
    expect(screen.getByText(/2 CPU cores, 7.5 GB memory/)).toBeTruthy();
  });

  it('shows a doctor failure as a sentence and lets the user ask again', async () => {
    let calls = 0;
    const client = new FakeClient({
      'app.doctor': () => {
        calls++;
        return fail({ code: 'backend_unavailable', message: 'No training backend could be loaded.' });
      },
    });
    render(SettingsPage, { settings: new SettingsState(client), connection: 'x' });
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('No training backend could be loaded.');
    await fireEvent.click(screen.getByRole('button', { name: 'Check again' }));
    await settle();
    expect(calls).toBe(2);
  });
});

describe('the app shell', () => {
  it('navigates between Datasets, Searches and Settings and marks the current page', async () => {
    const client = new FakeClient({
      'dataset.list': () => ok([sampleRecord()]),
      'app.doctor': () => fail({ code: 'internal', message: 'x' }),
    });
    render(App, { session: new Session({ kind: 'ipc', client }) });
    await settle();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const buttons = within(nav).getAllByRole('button');
    expect(buttons.map((b) => b.textContent?.trim())).toEqual([
      'Datasets',
      'Searches',
      'Apply to scans',
      'Settings',
    ]);
    expect(buttons[0]?.getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Datasets');
    expect(screen.getByRole('rowheader', { name: 'Hippocampus' })).toBeTruthy();

    await fireEvent.click(within(nav).getByRole('button', { name: 'Settings' }));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Settings');
    expect(within(nav).getByRole('button', { name: 'Settings' }).getAttribute('aria-current')).toBe('page');
    expect(document.title).toBe('Settings – Emonas Studio');
  });

  it('refreshes the library when the engine says a dataset was imported or removed', async () => {
    const lists = [[], [sampleRecord('A')], []];
    const client = new FakeClient({ 'dataset.list': () => ok(lists.shift() ?? []) });
    render(App, { session: new Session({ kind: 'ipc', client }) });
    await settle();
    expect(screen.getByText(/The library is empty/)).toBeTruthy();
    client.emit('dataset.imported', { record: sampleRecord('A') });
    await settle();
    expect(screen.getByRole('rowheader', { name: 'A' })).toBeTruthy();
    client.emit('dataset.removed', { name: 'A' });
    await settle();
    expect(screen.getByText(/The library is empty/)).toBeTruthy();
  });

  it('asks before removing a dataset', async () => {
    const client = new FakeClient({
      'dataset.list': () => ok([sampleRecord('A')]),
      'dataset.remove': ({ name }) => ok({ name }),
    });
    render(App, { session: new Session({ kind: 'ipc', client }) });
    await settle();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove A' }));
    expect(client.calls.some((c) => c.method === 'dataset.remove')).toBe(false);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await settle();
    expect(client.calls.find((c) => c.method === 'dataset.remove')?.input).toEqual({ name: 'A' });
  });
});
