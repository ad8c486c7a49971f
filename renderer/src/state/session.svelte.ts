// Runs in: the renderer. Everything one window holds for its lifetime: the engine connection and the state
// of each page, so a page keeps its state while another is shown.
import type { Connection } from '../api/connect.ts';
import type { ConnectionState } from '../api/websocket-client.ts';
import { RunView } from '../review/run-view.svelte.ts';
import { Navigation } from './app.svelte.ts';
import { ImportWizard } from './import-wizard.svelte.ts';
import { LibraryState } from './library.svelte.ts';
import { RunsState } from './runs.svelte.ts';
import { SettingsState } from './settings.svelte.ts';

export class Session {
  readonly library: LibraryState;
  readonly wizard: ImportWizard;
  readonly settings: SettingsState;
  readonly runs: RunsState;
  /** The run opened from the Searches page, and the candidate under review. */
  readonly runView: RunView;
  /** How this window reaches the engine, in words. */
  readonly where: string;
  link = $state<ConnectionState>('open');

  constructor(
    readonly connection: Connection,
    readonly navigation: Navigation = new Navigation(),
  ) {
    const { client } = connection;
    this.library = new LibraryState(client);
    this.wizard = new ImportWizard(client, connection.kind === 'ipc');
    this.settings = new SettingsState(client);
    this.runs = new RunsState(client);
    this.runView = new RunView(client);
    if (connection.kind === 'websocket') {
      this.where = `over a WebSocket to ${connection.socket.address}`;
      this.link = connection.socket.state;
      connection.socket.onStateChange((state) => (this.link = state));
    } else {
      this.where = 'inside the desktop app';
    }
  }
}
