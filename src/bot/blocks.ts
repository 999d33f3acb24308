/**
 * Every Block Kit message the bot sends, built in one place. Pure functions: no Slack calls.
 * Each message has a plain `text` too: Slack shows it in notifications and where blocks can't render.
 * All text is Mrkdwn from slack-text.ts, so nothing from outside reaches Slack unescaped.
 */
import type { types } from '@slack/bolt';
import type { Owner, SystemInfo } from '../k8s/spec.js';
import { age, stateText } from '../commands/format.js';
import { clipMd, code, codeBlock, joinMd, link, md, mention, plain, slackDate, type Mrkdwn } from './slack-text.js';

type KnownBlock = types.KnownBlock;
export interface Message {
  text: string;
  blocks: KnownBlock[];
}

export const ACTION_TEARDOWN = 'tycho_teardown';
export const ACTION_STATUS = 'tycho_status';
export const ACTIONS_BLOCK_ID = 'tycho_actions';
/** The Extend button of an expiry warning: its value is only the system's name. */
export const ACTION_EXTEND = 'tycho_extend';

/**
 * An Extend button's value: the system's name and the expiry the button was made for
 * (`NAME@ISO-TIME`), so a second click of the same button (a double click, a retry, a click on
 * an older message) extends nothing (launcher.extend's `from`). A bare name, from a message
 * posted before this, still extends.
 */
export function extendValue(name: string, expires?: string | null): string {
  return expires ? `${name}@${expires}` : name;
}

export function parseExtendValue(value: string): { name: string; from?: string } {
  const at = value.indexOf('@');
  return at < 0 ? { name: value } : { name: value.slice(0, at), from: value.slice(at + 1) };
}
/** Restart (a fresh pod, as kubectl rollout restart) and Logs (its log in the thread): values are only the name. */
export const ACTION_RESTART = 'tycho_restart';
export const ACTION_LOGS = 'tycho_logs';

/** Slack limits (slack-platform.md): 3000 per section text, 2000 per field, 50 blocks. */
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const MAX_SYSTEMS_LISTED = 40;

/**
 * A mrkdwn text object. `verbatim` turns off Slack's own auto-linking of URLs, channel names
 * and mentions in it; the links and mentions Tycho composes (`<…>`) still work.
 */
const mrkdwn = (text: Mrkdwn, max = SECTION_MAX) => ({ type: 'mrkdwn' as const, text: clipMd(text, max).text, verbatim: true });
const section = (text: Mrkdwn): KnownBlock => ({ type: 'section', text: mrkdwn(text) });
const context = (text: Mrkdwn): KnownBlock => ({ type: 'context', elements: [mrkdwn(text)] });
const message = (text: Mrkdwn, blocks: KnownBlock[]): Message => ({ text: text.text, blocks });

/** The owner of a system as Kubernetes records it. */
export function ownerOf(s: Pick<SystemInfo, 'owner' | 'ownerId'>): Owner {
  return { id: s.ownerId, display: s.owner };
}

function address(url: string | null): Mrkdwn {
  return url ? link(url) : md`_no address yet_`;
}

// ---- Buttons. Each value is only the system's name: everything else is read from Kubernetes on click. ----

type Button = types.Button;

export function statusButton(name: string): Button {
  return { type: 'button', action_id: ACTION_STATUS, text: { type: 'plain_text', text: 'Status' }, value: name };
}

/** Asks before it deletes. */
export function teardownButton(name: string): Button {
  return {
    type: 'button',
    action_id: ACTION_TEARDOWN,
    style: 'danger',
    text: { type: 'plain_text', text: 'Tear down' },
    value: name,
    confirm: {
      title: { type: 'plain_text', text: `Tear down ${name}?`.slice(0, 100) },
      text: mrkdwn(md`This deletes ${code(name)}: its Deployment, Pods and Service. Its URL stops working.`),
      confirm: { type: 'plain_text', text: 'Tear down' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

/** Asks before it replaces the pod: whatever the container holds in memory (a notebook's kernel) is lost. */
export function restartButton(name: string): Button {
  return {
    type: 'button',
    action_id: ACTION_RESTART,
    text: { type: 'plain_text', text: 'Restart' },
    value: name,
    confirm: {
      title: { type: 'plain_text', text: `Restart ${name}?`.slice(0, 100) },
      text: mrkdwn(md`This replaces the pod of ${code(name)} with a fresh one. What it holds in memory is lost; its URL stays.`),
      confirm: { type: 'plain_text', text: 'Restart' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/** Posts the system's last log lines in its thread (as /tycho logs). */
export function logsButton(name: string): Button {
  return { type: 'button', action_id: ACTION_LOGS, text: { type: 'plain_text', text: 'Logs' }, value: name };
}

/**
 * An actions block of these buttons. Slack refuses a message or view in which two blocks share a
 * block_id: a message of one system has one actions block; one of several (the App Home, the
 * digest) gives each system's its own, by `system`.
 */
export function actionsBlock(buttons: Button[], system?: string): KnownBlock {
  return { type: 'actions', block_id: system ? `${ACTIONS_BLOCK_ID}:${system}` : ACTIONS_BLOCK_ID, elements: buttons };
}

/** Status and Tear down. */
export function systemActions(name: string): KnownBlock {
  return actionsBlock([statusButton(name), teardownButton(name)]);
}

/**
 * Drops the buttons from a message Slack sent us back (a click's `message.blocks`). Its text
 * objects get `verbatim` again, in case Slack's echo left it out.
 */
export function withoutActions(blocks: unknown[] | undefined): KnownBlock[] {
  return withVerbatim(((blocks ?? []) as KnownBlock[]).filter((b) => b.type !== 'actions'));
}

/** A message's blocks as Slack sent them back, with `verbatim` again on their text objects. */
function withVerbatim(blocks: KnownBlock[]): KnownBlock[] {
  const verbatim = (t: unknown) => (t && typeof t === 'object' && (t as { type?: unknown }).type === 'mrkdwn' ? { ...t, verbatim: true } : t);
  return blocks
    .map((b) => {
      const o = b as { text?: unknown; elements?: unknown[]; fields?: unknown[] };
      return {
        ...b,
        ...(o.text ? { text: verbatim(o.text) } : {}),
        ...(o.elements ? { elements: o.elements.map(verbatim) } : {}),
        ...(o.fields ? { fields: o.fields.map(verbatim) } : {}),
      } as KnownBlock;
    });
}

// ---- The root message: one per launch, updated in place through its life. ----

export interface RootFacts {
  name: string;
  image: string;
  owner: Owner;
}

export type RootState =
  /** `progress`: where the launch is, in words ("pulling the image"); the root is updated as it moves. */
  | { kind: 'launching'; progress?: string }
  /** `note`: something to know while it serves (it crashed and restarted, and the incident is not over yet). */
  | { kind: 'ready'; url: string | null; note?: Mrkdwn }
  | { kind: 'failed'; reason: Mrkdwn; title: string; exists: boolean }
  | { kind: 'tearing-down'; by: Owner }
  | { kind: 'torn-down'; by: Owner; at: Date }
  /** The reaper is removing it: its expiry passed. */
  | { kind: 'expiring' }
  /** Removed by the reaper once its expiry passed. */
  | { kind: 'expired'; at: Date }
  /** Torn down while starting by something other than this bot (the CLI, the REST API, kubectl). */
  | { kind: 'stopped'; at: Date };

export function rootMessage(f: RootFacts, s: RootState): Message {
  const name = code(f.name);
  const owner = mention(f.owner);
  const launched = md`Launched by ${owner} · image ${code(f.image)}`;
  switch (s.kind) {
    case 'launching':
      return message(md`${owner} is launching ${name} (${code(f.image)})…`, [
        section(md`:hourglass_flowing_sand: ${owner} is launching *${name}* (${code(f.image)})…`),
        s.progress ? context(md`Status: *launching* · ${plain(s.progress)}`) : context(md`Status: *launching*`),
      ]);
    case 'ready':
      return message(md`${name} is ready: ${address(s.url)}`, [
        section(md`:white_check_mark: *${name}* is ready: ${address(s.url)}`),
        context(s.note ? md`${launched} · Status: *ready* · ${s.note}` : md`${launched} · Status: *ready*`),
        systemActions(f.name),
      ]);
    case 'failed':
      return message(md`${name} failed: ${s.title}`, [
        section(md`:x: *${name}* failed: ${s.title}.\n${s.reason}`),
        context(md`${launched} · Status: *failed*${s.exists ? ' · still in the cluster until torn down' : ''}`),
        ...(s.exists ? [systemActions(f.name)] : []),
      ]);
    case 'tearing-down':
      return message(md`${name} is being torn down`, [section(md`:wastebasket: *${name}* is being torn down (asked by ${mention(s.by)})…`), context(md`${launched} · Status: *tearing down*`)]);
    case 'torn-down':
      return message(md`${name} was torn down`, [section(md`:white_circle: *${name}* was torn down by ${mention(s.by)} on ${slackDate(s.at)}.`), context(md`${launched} · Status: *torn down*`)]);
    case 'expiring':
      return message(md`${name} expired and is being removed`, [section(md`:hourglass: *${name}* expired and is being removed…`), context(md`${launched} · Status: *expired*`)]);
    case 'expired':
      return message(md`${name} expired`, [section(md`:white_circle: *${name}* expired and was removed on ${slackDate(s.at)}.`), context(md`${launched} · Status: *expired*`)]);
    case 'stopped':
      return message(md`${name} was torn down while starting`, [
        section(md`:white_circle: *${name}* was torn down outside Slack while it was starting (${slackDate(s.at)}).`),
        context(md`${launched} · Status: *torn down*`),
      ]);
  }
}

// ---- Replies in the thread. ----

/** `live` carries the buttons; `gone` is the same message after a teardown, buttons removed. */
/** `warning`: the URL did not answer when Tycho opened it (commands/format.ts urlWarning). */
export function readyReply(name: string, url: string | null, state: 'live' | 'gone' = 'live', warning?: string): Message {
  return message(md`Ready: ${url ? link(url) : md`no address yet`}`, [
    section(md`:white_check_mark: Ready: ${address(url)}`),
    ...(warning && state === 'live' ? [context(md`:warning: ${plain(warning)}`)] : []),
    state === 'live' ? systemActions(name) : context(md`Torn down since: this address no longer answers.`),
  ]);
}

/** The buttons of a failed system live on the root message only, which every teardown updates. */
export function failedReply(name: string, reason: Mrkdwn, exists: boolean, prefix: string): Message {
  return message(reason, [
    section(md`:x: ${reason}`),
    ...(exists ? [context(md`${code(name)} is still in the cluster so you can look at it. Tear it down with the button above or ${code(`${prefix}down -n ${name}`)}.`)] : []),
  ]);
}

/** The last lines of a log shown in an incident reply: redacted already, or why there are none. */
export type LogExcerpt = { text: string; previous: boolean; redacted: number } | { unavailable: string };

/** Slack's section limit, less room for the line that introduces the log. */
const EXCERPT_MAX_CHARS = 2600;

function excerptBlocks(log: LogExcerpt | undefined): KnownBlock[] {
  if (!log) return [];
  if ('unavailable' in log) return [context(md`No log to show: ${plain(log.unavailable)}`)];
  const lines = log.text.replace(/\n$/, '').split('\n');
  // Whole lines from the end, as many as fit in one section.
  let shown = lines;
  while (shown.length > 1 && codeBlock(shown.join('\n')).text.length > EXCERPT_MAX_CHARS) shown = shown.slice(1);
  if (log.text.trim() === '') return [context(md`Its ${log.previous ? "previous run's " : ''}log is empty.`)];
  const redacted = log.redacted ? md` (${String(log.redacted)} secret${log.redacted === 1 ? '' : 's'} replaced by [REDACTED])` : md``;
  return [section(clipMd(md`The last ${String(shown.length)} line${shown.length === 1 ? '' : 's'} of its ${log.previous ? "previous run's " : ''}log${redacted}:\n${codeBlock(shown.join('\n'))}`, SECTION_MAX))];
}

/** What to do about an incident: Restart, Logs and Tear down. */
export function incidentActions(name: string): KnownBlock {
  return actionsBlock([restartButton(name), logsButton(name), teardownButton(name)]);
}

/** A served system stopped serving for longer than the grace period: one reply per incident. */
export function outageReply(name: string, reason: Mrkdwn, owner: Owner, prefix: string, log?: LogExcerpt): Message {
  return message(md`${code(name)} stopped serving: ${reason}`, [
    section(md`:red_circle: ${mention(owner)} ${code(name)} stopped serving. ${reason}`),
    ...excerptBlocks(log),
    context(md`Tycho will say here when it serves again. More of its log: ${code(`${prefix}logs -n ${name}`)}.`),
    incidentActions(name),
  ]);
}

export interface CrashFacts {
  /** As the kubelet says it: Error, OOMKilled, … */
  reason: string;
  exitCode: number;
  /** What it wrote to its termination log. */
  message?: string;
}

/**
 * A served system's container crashed (a non-zero exit, or OOMKilled): one reply per incident,
 * its owner tagged, with the crashed run's last lines and what can be done about it.
 */
export function crashAlert(name: string, c: CrashFacts, owner: Owner, prefix: string, log: LogExcerpt): Message {
  const oom = c.reason === 'OOMKilled';
  const why = oom ? md`It ran out of memory (*OOMKilled*, exit code ${String(c.exitCode)}).` : md`*${plain(c.reason)}*, exit code ${String(c.exitCode)}.`;
  return message(md`${code(name)} crashed: ${plain(c.reason)}, exit code ${String(c.exitCode)}`, [
    section(md`:boom: ${mention(owner)} ${code(name)} crashed. ${why} Kubernetes restarts it; what it held in memory is lost.`),
    ...(c.message ? [context(md`Its last words: ${plain(c.message)}`)] : []),
    ...excerptBlocks(log),
    context(
      oom
        ? md`Tycho will say here when it serves again. It may need more memory: launch it again with a higher ${code('--memory')}. More of the log: ${code(`${prefix}logs -n ${name} --previous`)}.`
        : md`Tycho will say here when it serves again. More of the crashed run's log: ${code(`${prefix}logs -n ${name} --previous`)}.`,
    ),
    incidentActions(name),
  ]);
}

/** Its Service was made again with another port: the URL in the Ready reply no longer works. */
export function urlChangedReply(name: string, url: string | null): Message {
  return message(md`The URL of ${code(name)} changed: ${address(url)}`, [
    section(md`:arrows_counterclockwise: The URL of ${code(name)} changed: ${address(url)}`),
    context(md`Its Service was lost and made again, and its old port had been taken meanwhile.`),
  ]);
}

/** The incident is over: the system serves again. */
export function recoveredReply(name: string, url: string | null): Message {
  return message(md`${code(name)} is serving again: ${address(url)}`, [section(md`:large_green_circle: ${code(name)} is serving again: ${address(url)}`)]);
}

/**
 * The system expires soon: its owner is tagged and offered an Extend button (the default TTL
 * more, up to the maximum). One per expiry value (reconciler.ts).
 */
export function expiryWarningReply(name: string, owner: Owner, expires: Date, extendBy: string, prefix: string): Message {
  return message(md`${code(name)} expires ${slackDate(expires)}`, [
    section(md`:hourglass_flowing_sand: ${mention(owner)} ${code(name)} expires ${slackDate(expires)}, and Tycho will remove it then.`),
    context(md`Extend it by ${plain(extendBy)} with the button, or by another amount with ${code(`${prefix}extend -n ${name} --ttl 2h`)}.`),
    {
      type: 'actions',
      block_id: ACTIONS_BLOCK_ID,
      elements: [{ type: 'button', action_id: ACTION_EXTEND, style: 'primary', text: { type: 'plain_text', text: `Extend (+${extendBy})`.slice(0, 75) }, value: extendValue(name, expires.toISOString()) }],
    },
  ]);
}

/** The answer to a restart, for whoever asked: the thread shows the rest. */
export function restartingMessage(name: string): Message {
  return plainMessage(md`:arrows_counterclockwise: Restarting ${code(name)}: its pod is being replaced with a fresh one. Its URL stays the same.`);
}

/** The answer to an extend, for whoever asked; `already`: a second click found it extended already. */
export function extendedMessage(name: string, expires: string | null, capped: boolean, already = false): Message {
  const at = expires ? new Date(expires) : undefined;
  if (already)
    return plainMessage(md`:hourglass_flowing_sand: ${code(name)} was already extended: it expires ${at && Number.isFinite(at.getTime()) ? slackDate(at) : md`at no set time`}.`);
  return plainMessage(
    md`:hourglass_flowing_sand: Extended ${code(name)}: it now expires ${at && Number.isFinite(at.getTime()) ? slackDate(at) : md`at no set time`}${capped ? md`, the most the operator allows (TYCHO_MAX_TTL)` : md``}.`,
  );
}

/**
 * The clicked message once its Extend button worked (the clicker was allowed, the expiry moved),
 * so nobody clicks it again against an expiry it no longer shows; undefined to leave it as it
 * is (no Extend of this system on it). `blocks` are the message's as Slack sent them back.
 * - An expiry warning (its one button is this Extend): says who extended it and until when,
 *   without the button.
 * - A message of several systems (the daily digest): this system's line shows the new expiry and
 *   who extended it, and its Extend button goes; every other line and button stays.
 */
export function afterExtendClick(clicked: { text?: string; blocks?: unknown[] }, name: string, by: Owner, expires: string | null, capped: boolean): Message | undefined {
  const blocks = (clicked.blocks ?? []) as KnownBlock[];
  const isThisExtend = (e: unknown) => (e as { action_id?: string }).action_id === ACTION_EXTEND && parseExtendValue((e as { value?: string }).value ?? '').name === name;
  const at = expires && Number.isFinite(Date.parse(expires)) ? slackDate(new Date(expires)) : md`no set time`;
  const until = md`${at}${capped ? md`, the most the operator allows (TYCHO_MAX_TTL)` : md``}`;
  const actions = blocks.filter((b) => b.type === 'actions') as types.ActionsBlock[];
  const row = blocks.findIndex((b) => b.type === 'actions' && (b as types.ActionsBlock).elements.some(isThisExtend));
  if (row < 0) return undefined;
  if (actions.length === 1 && actions[0]!.elements.length === 1) return warningExtended(name, by, expires, capped);
  const line = md` (extended by ${mention(by)})`;
  const out = withVerbatim(blocks).map((b, i) => {
    if (i === row) return { ...b, elements: (b as types.ActionsBlock).elements.filter((e) => !isThisExtend(e)) } as KnownBlock;
    const text = (b as { text?: { type?: string; text?: string } }).text;
    if (i !== row - 1 || b.type !== 'section' || text?.type !== 'mrkdwn') return b;
    // The digest's line says "expires <date>": the new date replaces the old.
    const old = text.text ?? '';
    const moved = /expires <!date\^[^>]*>/.test(old) ? old.replace(/expires <!date\^[^>]*>/, () => `expires ${until.text}${line.text}`) : `${old} · expires ${until.text}${line.text}`;
    return { ...b, text: { ...text, text: moved } } as KnownBlock;
  });
  return { text: clicked.text ?? code(name).text, blocks: out.filter((b) => b.type !== 'actions' || (b as types.ActionsBlock).elements.length > 0) };
}

/**
 * An expiry warning once the expiry has moved (by its Extend button, or by an extend from
 * anywhere): it says who moved it and to when, and offers no button for an expiry it no longer shows.
 */
export function warningExtended(name: string, by: Owner, expires: string | null, capped = false): Message {
  const at = expires && Number.isFinite(Date.parse(expires)) ? slackDate(new Date(expires)) : md`no set time`;
  return message(md`${mention(by)} extended ${code(name)}: it now expires ${at}`, [
    section(md`:hourglass_flowing_sand: ${mention(by)} extended ${code(name)}: it now expires ${at}${capped ? md`, the most the operator allows (TYCHO_MAX_TTL)` : md``}.`),
  ]);
}

/** The reaper removed it once its expiry passed. */
export function expiredReply(at: Date): Message {
  return message(md`Expired and removed.`, [section(md`:white_circle: Expired and removed on ${slackDate(at)}. The URL no longer answers.`)]);
}

export function tornDownReply(by: Owner, at: Date): Message {
  return message(md`Torn down by ${mention(by)}.`, [section(md`:white_circle: Torn down by ${mention(by)} on ${slackDate(at)}. The URL no longer answers.`)]);
}

// ---- Notifications to the team channel (they link to the thread). ----

export type Notice =
  | { kind: 'launching' }
  | { kind: 'ready'; url: string | null }
  | { kind: 'failed'; title: string }
  | { kind: 'torn-down'; by: Owner }
  | { kind: 'expired' };

export function noticeMessage(f: RootFacts, n: Notice, threadLink?: string): Message {
  const name = code(f.name);
  const owner = mention(f.owner);
  const thread = threadLink ? md` · ${link(threadLink, 'thread')}` : md``;
  const text = (() => {
    switch (n.kind) {
      case 'launching':
        return md`:rocket: ${owner} is launching ${name} (${code(f.image)})${thread}`;
      case 'ready':
        return md`:white_check_mark: ${name} of ${owner} is ready: ${address(n.url)}${thread}`;
      case 'failed':
        return md`:x: ${name} of ${owner} failed: ${n.title}${thread}`;
      case 'torn-down':
        return md`:white_circle: ${name} of ${owner} was torn down by ${mention(n.by)}${thread}`;
      case 'expired':
        return md`:white_circle: ${name} of ${owner} expired and was removed${thread}`;
    }
  })();
  return message(text, [section(text)]);
}

/** Several notices as one message (the team channel's, gathered by SlackIO): each a line, as it would be alone. */
export function noticesMessage(notices: Message[]): Message {
  return { text: notices.map((n) => n.text).join('\n'), blocks: notices.flatMap((n) => n.blocks) };
}

// ---- Ephemeral answers: status, list, help, bad input. ----

function systemSection(s: SystemInfo, now: number): KnownBlock {
  const state = s.ready ? md`:large_green_circle: ready` : s.stage === 'failed' ? md`:red_circle: ${stateText(s)}` : md`:large_yellow_circle: ${stateText(s)}`;
  const fields = [
    md`*Name*\n${code(s.name)}`,
    md`*State*\n${state}`,
    md`*URL*\n${address(s.url)}`,
    md`*Owner*\n${mention(ownerOf(s))}`,
    md`*Age*\n${age(s.created, now)}`,
    md`*Image*\n${code(s.image)}`,
  ];
  return { type: 'section', fields: fields.map((t) => mrkdwn(t, FIELD_MAX)) };
}

export function statusMessage(systems: SystemInfo[], prefix: string, now = Date.now()): Message {
  if (systems.length === 0) {
    const text = md`No systems are running here. Start one with ${code(`${prefix}up -n NAME -c IMAGE -p PORT`)}.`;
    return message(text, [section(text)]);
  }
  const shown = systems.slice(0, MAX_SYSTEMS_LISTED);
  const blocks: KnownBlock[] = [section(systems.length === 1 ? md`*1 system*` : md`*${systems.length} systems*`)];
  for (const s of shown) blocks.push({ type: 'divider' }, systemSection(s, now));
  if (systems.length > shown.length) blocks.push(context(md`…and ${systems.length - shown.length} more. Ask for one with ${code(`${prefix}status -n NAME`)}.`));
  // 1 + 2×40 would pass Slack's 50-block cap; drop the dividers when there are many.
  const capped = blocks.length > 50 ? blocks.filter((b) => b.type !== 'divider') : blocks;
  const lines = systems.map((s) => md`${code(s.name)}: ${stateText(s)}${s.url ? md` ${link(s.url)}` : md``}`);
  return { text: clipMd(joinMd(lines, '\n'), 3000).text, blocks: capped };
}

export function helpMessage(text: string): Message {
  return message(plain(text), [section(codeBlock(text))]);
}

export function usageMessage(reason: string, usage: string): Message {
  return message(md`${reason}\n${usage}`, [section(md`:warning: ${reason}`), context(code(usage))]);
}

/** A message in Tycho's words; anything from outside in it was escaped by md/plain/code. */
export function plainMessage(text: Mrkdwn): Message {
  return message(text, [section(text)]);
}

/**
 * The Extend button: the default TTL more, up to the maximum (the `extend` command). Its value is
 * only the system's name. The App Home and the daily digest carry it.
 */
export function extendButton(name: string, expires?: string | null, label = 'Extend'): types.Button {
  return { type: 'button', action_id: ACTION_EXTEND, style: 'primary', text: { type: 'plain_text', text: label.slice(0, 75) }, value: extendValue(name, expires) };
}
