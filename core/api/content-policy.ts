// Runs in: any process. The renderer's Content-Security-Policy, one string for every way the app is
// delivered (the desktop app's app:// protocol, the pages `emonas serve` hands out, the page's own meta
// tag): its own files and its own engine connection, nothing from anywhere else, so patient data can only
// reach this machine's engine.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
