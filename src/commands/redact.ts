/**
 * Secrets taken out of a log before any front end shows it. Tycho never stores a system's
 * --secret-env values (they go straight into a Secret it cannot read back), so it cannot look for
 * them by value: what it can do is recognise secrets by their shape. Best effort by design; what
 * matches is replaced by [REDACTED], keeping the name of an assignment so the line still reads.
 */

export const REDACTED = '[REDACTED]';

/** Each shape of secret, with what replaces it. Order matters: whole blocks before the words inside them. */
const PATTERNS: ReadonlyArray<{ what: string; re: RegExp; keep?: (m: string, ...groups: string[]) => string }> = [
  // PEM private keys, RSA/EC/OPENSSH/ENCRYPTED alike, across lines.
  { what: 'private key block', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g },
  // Slack tokens: bot, user, app-level, refresh, configuration (xoxb-, xoxp-, xapp-, xoxe-, …).
  { what: 'Slack token', re: /\bxox[abeoprs]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}/g },
  // JSON Web Tokens: three base64url parts, the first two starting as a JSON object does.
  { what: 'JWT', re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  // AWS access key ids (AKIA long-term, ASIA temporary).
  { what: 'AWS access key id', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  // Authorization: Bearer/Basic …
  { what: 'bearer token', re: /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, keep: (_m, scheme, space) => `${scheme}${space}${REDACTED}` },
  // A URL's password: scheme://user:password@host.
  { what: 'URL password', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, keep: (_m, head) => `${head}${REDACTED}@` },
  // password=…, "token": "…", secret: …, api_key=…, AWS_SECRET_ACCESS_KEY=…: the name stays, the value goes.
  {
    what: 'assignment',
    re: /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'}]+)/gi,
    keep: (_m, name, sep, value) => `${name}${sep}${value.startsWith('"') ? `"${REDACTED}"` : value.startsWith("'") ? `'${REDACTED}'` : REDACTED}`,
  },
];

export interface Redacted {
  text: string;
  /** How many secrets were taken out (front ends may say so). */
  count: number;
}

export function redactSecrets(text: string): Redacted {
  let count = 0;
  let out = text;
  for (const p of PATTERNS) {
    out = out.replace(p.re, (m: string, ...rest: unknown[]) => {
      // An assignment whose value is already a redaction (a bearer token inside it) is not counted twice.
      const groups = rest.slice(0, -2).map((g) => String(g ?? ''));
      const replaced = p.keep ? p.keep(m, ...groups) : REDACTED;
      if (replaced !== m) count++;
      return replaced;
    });
  }
  return { text: out, count };
}
