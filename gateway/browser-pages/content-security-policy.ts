/**
 * The Content-Security-Policy of the IDE and the console: scripts, styles, fonts and workers
 * only from the gateway itself, requests only to it (`'self'` includes its own `ws:`/`wss:`),
 * no eval, no plugins, no framing, no forms posted anywhere.
 *
 * Styles allow `'unsafe-inline'`: Monaco (GraphiQL's editor) writes its theme and layout into
 * `<style>` elements and `style` attributes at run time and takes no nonce. Inline styles
 * cannot run code; scripts stay limited to the gateway's own files.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every page and asset: the policy, no sniffing, no referrer, not framed. */
export const PAGE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
