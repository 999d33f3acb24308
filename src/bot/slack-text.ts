/**
 * The one way text reaches Slack. Everything the bot writes is a `Mrkdwn` value, and the only
 * ways to make one are here: `md` templates (whose literal parts are Tycho's own words and
 * whose interpolated strings are escaped), `plain` and `code` for text from outside (a
 * container's termination message, an image, a name, an owner typed into the REST API), and
 * the few live constructs Tycho composes itself: `mention` of a verified Slack user, `link`,
 * `slackDate`. A string from outside can therefore never become a mention, a channel ping or a
 * link: `<` `>` `&` are escaped as Slack asks (so `<@U…>`, `<!channel>`, `<#C…>`,
 * `<!subteam^…>` and `<http://…|text>` show as text), and anything Slack would auto-link or
 * auto-mention on its own (a bare URL, a domain, an e-mail address, `@here`, `#channel`) goes
 * into a code span. Blocks also carry `verbatim: true` (see blocks.ts), which turns Slack's
 * auto-linking off there; the code spans also cover the plain `text` fallback, which has no
 * such switch.
 */
import type { Owner } from '../k8s/spec.js';

/**
 * Text that is safe to hand to Slack as mrkdwn. The private field makes the type nominal:
 * a plain string or an object literal does not pass for one.
 */
class MrkdwnText {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  get text(): string {
    return this.#text;
  }
  toString(): string {
    return this.#text;
  }
}
export type Mrkdwn = MrkdwnText;

export function isMrkdwn(v: unknown): v is Mrkdwn {
  return v instanceof MrkdwnText;
}

/**
 * Stands in for a backtick in text from outside. Slack has no escape for a backtick, and one
 * left in would pair up with the backticks of a code span Tycho adds and turn it inside out
 * (putting a URL back outside it). U+02CB looks the same to a reader.
 */
export const BACKTICK_STAND_IN = '\u02CB';

/** Slack's own escaping rule: &, < and > are its control characters. Nothing else is touched. */
export function escapeControl(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Outside text as the inside of a code span: escaped, backticks replaced, on one line. */
function codeContent(s: string): string {
  return escapeControl(s.replace(/`/g, BACKTICK_STAND_IN).replace(/[\r\n]+/g, ' '));
}

/**
 * Words Slack would turn into a link or a mention by itself: URLs with a scheme or `www.`,
 * anything with `@` (e-mail addresses, `@here`, `@channel`) or `#name` (a channel), and dotted names
 * ending in letters (`evil.example`, `docker.io/x`). Over-matching only costs a code span.
 */
const AUTO_LINKED = /:\/\/|^www\.|@|#[\p{L}\p{N}_]|[\p{L}\p{N}_-]\.\p{L}{2,}/iu;

/** Outside text, shown as text: escaped, and every word Slack might link put in a code span. */
export function plain(s: string): Mrkdwn {
  const out = s
    .replace(/`/g, BACKTICK_STAND_IN)
    .split(/(\s+)/)
    .map((part, i) => (i % 2 === 1 || !AUTO_LINKED.test(part) ? escapeControl(part) : `\`${escapeControl(part)}\``))
    .join('');
  return new MrkdwnText(out);
}

/** Outside text as a code span, e.g. an image or a system name. Empty stays empty. */
export function code(s: string): Mrkdwn {
  return new MrkdwnText(s === '' ? '' : `\`${codeContent(s)}\``);
}

/** Outside text as a code block (``` … ```), newlines kept. */
export function codeBlock(s: string): Mrkdwn {
  return new MrkdwnText(`\`\`\`${escapeControl(s.replace(/`/g, BACKTICK_STAND_IN))}\`\`\``);
}

type Interpolable = string | number | Mrkdwn;

function backticks(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '`') n++;
  return n;
}

/**
 * A message in Tycho's words, e.g. md`:x: *${code(name)}* failed: ${reason}`. The literal parts
 * are written by us and kept as they are; each interpolated Mrkdwn is kept; each string or
 * number is outside text and is escaped: as code-span content when the template has opened a
 * code span around it, else with `plain`.
 */
export function md(strings: TemplateStringsArray, ...values: Interpolable[]): Mrkdwn {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (isMrkdwn(v)) out += v.text;
    else out += backticks(out) % 2 === 1 ? codeContent(String(v)) : plain(String(v)).text;
    out += strings[i + 1] ?? '';
  });
  return new MrkdwnText(out);
}

export function joinMd(parts: Mrkdwn[], separator: string): Mrkdwn {
  return new MrkdwnText(parts.map((p) => p.text).join(escapeControl(separator)));
}

/** A Slack user ID as Slack hands it to us in a signed payload (U… or, in Enterprise Grid, W…). */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * Who owns (or did something to) a system. A live mention only for an owner Tycho recorded
 * from a verified Slack user ID (owner id "slack:U…"); the mention is rebuilt from that ID, not
 * taken from the display string. Any other owner (a CLI login, an X-Tycho-Owner header, an
 * annotation someone edited) is shown as text, even if it looks like "<@U…>".
 */
export function mention(owner: Owner): Mrkdwn {
  const id = owner.id.startsWith('slack:') ? owner.id.slice('slack:'.length) : '';
  if (SLACK_USER_ID.test(id)) return new MrkdwnText(`<@${id}>`);
  return plain(owner.display || 'someone');
}

/**
 * A Tycho sentence that names an owner (e.g. "Only <@U…> or an admin can tear down …"): the
 * sentence is outside text as far as Slack is concerned, except for the owner, who is shown
 * with `mention` (live only if verified).
 */
export function sentenceNaming(sentence: string, owner: Owner | undefined): Mrkdwn {
  const at = owner?.display ? sentence.indexOf(owner.display) : -1;
  if (!owner || at < 0) return plain(sentence);
  const before = sentence.slice(0, at);
  const after = sentence.slice(at + owner.display.length);
  return new MrkdwnText(`${plain(before).text}${mention(owner).text}${plain(after).text}`);
}

/**
 * A link to an http(s) address Tycho composed (an app's URL, a thread's permalink). `|` and
 * `>` would end Slack's link syntax early, so the address is normalised and they are encoded;
 * anything that is not an http(s) URL is shown as code instead.
 */
export function link(url: string, label?: string): Mrkdwn {
  let href: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return code(url);
    // The address as given (new URL only checks it), so it reads as Tycho reported it elsewhere.
    href = url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\s/g, encodeURIComponent);
  } catch {
    return code(url);
  }
  return new MrkdwnText(`<${escapeControl(href)}${label ? `|${escapeControl(label)}` : ''}>`);
}

/** Renders in each reader's own time zone; the fallback is for clients that can't. */
export function slackDate(at: Date): Mrkdwn {
  return new MrkdwnText(`<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${at.toISOString()}>`);
}

/**
 * Shortens to at most `max` characters without leaving half of what Slack parses: no split
 * character (by code point), no broken entity or `<…>` construct, no unclosed code span.
 */
export function clipMd(m: Mrkdwn, max: number): Mrkdwn {
  if (m.text.length <= max) return m;
  let cut = '';
  for (const ch of m.text) {
    if (cut.length + ch.length > max - 2) break;
    cut += ch;
  }
  cut = cut.replace(/&[a-z]*$/, '').replace(/<[^>]*$/, '');
  if (backticks(cut) % 2 === 1) cut += '`';
  return new MrkdwnText(`${cut}…`);
}
