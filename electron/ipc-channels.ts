// Runs in: the Electron main process and the preload. The two IPC channel names both sides must agree on:
// one invoke channel for calls, one push channel for events.
export const CALL_CHANNEL = 'emonas:call';
export const EVENT_CHANNEL = 'emonas:event';
