// Runs in: the renderer. Starts the app: finds the engine (the desktop app's bridge, or the WebSocket named
// in the page's address), then mounts the shell.
import { mount } from 'svelte';
import App from './App.svelte';
import { connect, locateEngine, NoEngineError } from './api/connect.ts';
import type { EmonasBridge } from './api/ipc-client.ts';
import { Navigation, pageFromHash } from './state/app.svelte.ts';
import { Session } from './state/session.svelte.ts';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

try {
  const location = locateEngine(window as unknown as { location: Location; emonas?: EmonasBridge });
  if (location.kind === 'websocket') {
    // The token has done its job once read: keep it out of the address bar, bookmarks and screenshots.
    const clean = new URL(window.location.href);
    clean.searchParams.delete('token');
    clean.searchParams.delete('engine');
    window.history.replaceState(null, '', clean);
  }
  const navigation = new Navigation((page) => window.history.replaceState(null, '', `#/${page}`));
  navigation.page = pageFromHash(window.location.hash);
  window.addEventListener('hashchange', () => navigation.go(pageFromHash(window.location.hash)));
  mount(App, { target, props: { session: new Session(connect(location), navigation) } });
} catch (err) {
  const message = document.createElement('p');
  message.className = 'startup-error';
  message.textContent =
    err instanceof NoEngineError ? err.message : `Emonas Studio could not start: ${(err as Error).message}`;
  target.replaceChildren(message);
}
