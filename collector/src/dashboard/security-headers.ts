/**
 * Response headers of the dashboard. The page runs only its own scripts
 * (no inline script, no third party: the machine and many users' networks
 * may be offline or censored, and a page that loads nothing foreign cannot
 * leak who looks at it), talks only to its own collector, and cannot be
 * framed.
 */

/** Content-Security-Policy of the page and its assets. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: for the PNG download (the server SVG is rasterised through an <img>).
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The SVG chart holds no script and loads nothing; opened directly it stays inert. */
export const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *";

/** Headers of every dashboard response. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

/** Headers of the SVG chart: embeddable from any origin (reports), inert. */
export const SVG_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': SVG_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
  'access-control-allow-origin': '*',
};
