// Runs in: the renderer. Everything one window holds for its lifetime: the engine connection and the state
// of each page, so a page keeps its state while another is shown. When the connection comes back after a
// loss, every page fetches its data again: events sent meanwhile are lost, the engine's state is not.
import { locateEngine, NoEngineError, type Connection } from '../api/connect.ts';
import type { ConnectionState } from '../api/websocket-client.ts';
import { ApplyState } from '../apply/apply.svelte.ts';
import { RunView } from '../review/run-view.svelte.ts';
import { Navigation } from './app.svelte.ts';
import { DashboardState } from './dashboard.svelte.ts';
import { ImportWizard } from './import-wizard.svelte.ts';
import { LibraryState } from './library.svelte.ts';
import { RunsState } from './runs.svelte.ts';
import { SearchWizard } from './search-wizard.svelte.ts';
import { SettingsState } from './settings.svelte.ts';

export class Session {
  readonly library: LibraryState;
  readonly wizard: ImportWizard;
  readonly settings: SettingsState;
  readonly runs: RunsState;
  readonly searchWizard: SearchWizard;
  /** The run whose dashboard is open. */
  readonly dashboard: DashboardState;
  /** The candidate under review, opened from the dashboard. */
  readonly runView: RunView;
  /** A run's model applied to new scans. */
  readonly apply: ApplyState;
  /** How this window reaches the engine, in words. */
  where = $state('');
  link = $state<ConnectionState>('open');
  /** Whether the connection was ever lost, to tell a first connection from a reconnection. */
  private lost = false;

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
    this.dashboard = new DashboardState(client);
    this.apply = new ApplyState(client, connection.kind === 'ipc');
    this.searchWizard = new SearchWizard(client, (run) => {
      this.runs.wizardOpen = false;
      void this.runs.refresh();
      void this.dashboard.open(run.runId);
    });
    if (connection.kind === 'websocket') {
      this.where = `over a WebSocket to ${connection.socket.address}`;
      this.link = connection.socket.state;
      connection.socket.onStateChange((state) => {
        this.link = state;
        if (state === 'closed') this.lost = true;
        if (state === 'open' && this.lost) {
          this.lost = false;
          this.where = `over a WebSocket to ${connection.socket.address}`;
          this.refreshAll();
        }
      });
    } else {
      this.where = 'inside the desktop app';
    }
  }

  /** Tries the engine again now. */
  reconnect(): void {
    if (this.connection.kind === 'websocket') this.connection.socket.reconnectNow();
  }

  /**
   * Connects to an engine at another address, as `emonas serve` prints it (http://...?token=...) or as
   * its API address (ws://.../api?token=...); answers a sentence when the address cannot be used.
   */
  connectTo(address: string): string | null {
    if (this.connection.kind !== 'websocket') return 'The desktop app has its own engine.';
    try {
      const location = locateEngine({ location: { href: address.trim() } });
      if (location.kind !== 'websocket') return 'That is not an engine address.';
      this.connection.socket.retarget(location.url);
      return null;
    } catch (err) {
      if (err instanceof NoEngineError) return err.message;
      return `'${address}' is not an address; paste the one 'emonas serve' prints, e.g. http://127.0.0.1:8765/?token=....`;
    }
  }

  /** Opens Apply to new scans with a run's models, e.g. from the run's page. */
  applyTo(runId: string): void {
    void this.apply.load(runId);
    this.navigation.go('apply');
  }

  private refreshAll(): void {
    void this.runs.refresh();
    void this.library.refresh();
    if (this.dashboard.runId !== null) void this.dashboard.reconnected();
  }
}
