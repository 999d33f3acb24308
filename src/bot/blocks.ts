/**
 * Every Block Kit message the bot sends, built in one place. Pure functions: no Slack calls.
 * Each message has a plain `text` too: Slack shows it in notifications and where blocks can't render.
 */
import type { types } from '@slack/bolt';
import type { SystemInfo, Stage } from '../k8s/spec.js';
import { age, stateText, STAGE_WORDS } from '../commands/format.js';

type KnownBlock = types.KnownBlock;
export interface Message {
  text: string;
  blocks: KnownBlock[];
}

export const ACTION_TEARDOWN = 'tycho_teardown';
export const ACTION_STATUS = 'tycho_status';
export const ACTIONS_BLOCK_ID = 'tycho_actions';

/** Slack limits (slack-platform.md): 3000 per section text, 2000 per field, 50 blocks. */
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const MAX_SYSTEMS_LISTED = 40;

/**
 * mrkdwn treats &, < and > as markup; text from Kubernetes or a person must not. User mentions
 * ("<@U…>", how Tycho records Slack owners, e.g. in "Only <@U…> or an admin…") are kept.
 */
export function esc(s: string): string {
  return s
    .split(/(<@[UW][A-Z0-9]+>)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Slack owners are stored as "<@U…>" (a mention); CLI/API owners are plain names. */
export function who(display: string): string {
  return /^<@[UW][A-Z0-9]+>$/.test(display) ? display : esc(display || 'someone');
}

function link(url: string | null): string {
  return url ? `<${url}>` : '_no address yet_';
}

/** Renders in each reader's own time zone; the fallback is for clients that can't. */
export function slackDate(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${at.toISOString()}>`;
}

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } });
const context = (text: string): KnownBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, SECTION_MAX) }] });

/** Status and Tear down. The value is only the system's name: everything else is read from Kubernetes on click. */
export function systemActions(name: string): KnownBlock {
  return {
    type: 'actions',
    block_id: ACTIONS_BLOCK_ID,
    elements: [
      { type: 'button', action_id: ACTION_STATUS, text: { type: 'plain_text', text: 'Status' }, value: name },
      {
        type: 'button',
        action_id: ACTION_TEARDOWN,
        style: 'danger',
        text: { type: 'plain_text', text: 'Tear down' },
        value: name,
        confirm: {
          title: { type: 'plain_text', text: `Tear down ${name}?`.slice(0, 100) },
          text: { type: 'mrkdwn', text: `This deletes \`${name}\`: its Deployment, Pods and Service. Its URL stops working.` },
          confirm: { type: 'plain_text', text: 'Tear down' },
          deny: { type: 'plain_text', text: 'Cancel' },
          style: 'danger',
        },
      },
    ],
  };
}

/** Drops the buttons from a message Slack sent us back (a click's `message.blocks`). */
export function withoutActions(blocks: unknown[] | undefined): KnownBlock[] {
  return ((blocks ?? []) as KnownBlock[]).filter((b) => b.type !== 'actions');
}

// ---- The root message: one per launch, updated in place through its life. ----

export interface RootFacts {
  name: string;
  image: string;
  /** Display form: "<@U…>" or a plain name. */
  owner: string;
}

export type RootState =
  /** `progress`: where the launch is, in words ("pulling the image"); the root is updated as it moves. */
  | { kind: 'launching'; progress?: string }
  | { kind: 'ready'; url: string | null }
  | { kind: 'failed'; reason: string; title: string; exists: boolean }
  | { kind: 'tearing-down'; by: string }
  | { kind: 'torn-down'; by: string; at: Date }
  /** Torn down while starting by something other than this bot (the CLI, the REST API, kubectl). */
  | { kind: 'stopped'; at: Date };

export function rootMessage(f: RootFacts, s: RootState): Message {
  const name = `\`${f.name}\``;
  const launched = `Launched by ${who(f.owner)} · image \`${esc(f.image)}\``;
  switch (s.kind) {
    case 'launching':
      return {
        text: `${who(f.owner)} is launching ${name} (${esc(f.image)})…`,
        blocks: [
          section(`:hourglass_flowing_sand: ${who(f.owner)} is launching *${name}* (\`${esc(f.image)}\`)…`),
          context(`Status: *launching*${s.progress ? ` · ${esc(s.progress)}` : ''}`),
        ],
      };
    case 'ready':
      return {
        text: `${f.name} is ready: ${s.url ?? 'no address yet'}`,
        blocks: [section(`:white_check_mark: *${name}* is ready: ${link(s.url)}`), context(`${launched} · Status: *ready*`), systemActions(f.name)],
      };
    case 'failed':
      return {
        text: `${f.name} failed: ${s.title}`,
        blocks: [
          section(`:x: *${name}* failed: ${esc(s.title)}.\n${esc(s.reason)}`),
          context(`${launched} · Status: *failed*${s.exists ? ' · still in the cluster until torn down' : ''}`),
          ...(s.exists ? [systemActions(f.name)] : []),
        ],
      };
    case 'tearing-down':
      return {
        text: `${f.name} is being torn down`,
        blocks: [section(`:wastebasket: *${name}* is being torn down (asked by ${who(s.by)})…`), context(`${launched} · Status: *tearing down*`)],
      };
    case 'torn-down':
      return {
        text: `${f.name} was torn down`,
        blocks: [section(`:white_circle: *${name}* was torn down by ${who(s.by)} on ${slackDate(s.at)}.`), context(`${launched} · Status: *torn down*`)],
      };
    case 'stopped':
      return {
        text: `${f.name} was torn down while starting`,
        blocks: [section(`:white_circle: *${name}* was torn down outside Slack while it was starting (${slackDate(s.at)}).`), context(`${launched} · Status: *torn down*`)],
      };
  }
}

// ---- Replies in the thread. ----

/** The stages worth a message; "created" is what the root message already says. */
export const PROGRESS_STAGES: Stage[] = ['scheduled', 'pulling', 'started'];

export function progressReply(stage: Stage, image: string): Message {
  const words = stage === 'pulling' ? `pulling the image \`${esc(image)}\`` : (STAGE_WORDS[stage] ?? stage);
  const text = `${words.charAt(0).toUpperCase()}${words.slice(1)}…`;
  return { text, blocks: [context(`:arrow_forward: ${text}`)] };
}

/** `live` carries the buttons; `gone` is the same message after a teardown, buttons removed. */
/** `warning`: the URL did not answer when Tycho opened it (commands/format.ts urlWarning). */
export function readyReply(name: string, url: string | null, state: 'live' | 'gone' = 'live', warning?: string): Message {
  return {
    text: `Ready: ${url ?? 'no address yet'}`,
    blocks: [
      section(`:white_check_mark: Ready: ${link(url)}`),
      ...(warning && state === 'live' ? [context(`:warning: ${esc(warning)}`)] : []),
      state === 'live' ? systemActions(name) : context('Torn down since: this address no longer answers.'),
    ],
  };
}

/** The buttons of a failed system live on the root message only, which every teardown updates. */
export function failedReply(name: string, reason: string, exists: boolean, prefix: string): Message {
  return {
    text: esc(reason),
    blocks: [
      section(`:x: ${esc(reason)}`),
      ...(exists ? [context(`\`${name}\` is still in the cluster so you can look at it. Tear it down with the button above or \`${prefix}down -n ${name}\`.`)] : []),
    ],
  };
}

export function tornDownReply(by: string, at: Date): Message {
  return { text: `Torn down by ${who(by)}.`, blocks: [section(`:white_circle: Torn down by ${who(by)} on ${slackDate(at)}. The URL no longer answers.`)] };
}

// ---- Notifications to the team channel (text only; they link to the thread). ----

export type Notice =
  | { kind: 'launching' }
  | { kind: 'ready'; url: string | null }
  | { kind: 'failed'; title: string }
  | { kind: 'torn-down'; by: string };

export function noticeText(f: RootFacts, n: Notice, threadLink?: string): string {
  const name = `\`${f.name}\``;
  const thread = threadLink ? ` · <${threadLink}|thread>` : '';
  switch (n.kind) {
    case 'launching':
      return `:rocket: ${who(f.owner)} is launching ${name} (\`${esc(f.image)}\`)${thread}`;
    case 'ready':
      return `:white_check_mark: ${name} of ${who(f.owner)} is ready: ${link(n.url)}${thread}`;
    case 'failed':
      return `:x: ${name} of ${who(f.owner)} failed: ${esc(n.title)}${thread}`;
    case 'torn-down':
      return `:white_circle: ${name} of ${who(f.owner)} was torn down by ${who(n.by)}${thread}`;
  }
}

// ---- Ephemeral answers: status, list, help, bad input. ----

function systemSection(s: SystemInfo, now: number): KnownBlock {
  const state = s.ready ? ':large_green_circle: ready' : s.stage === 'failed' ? `:red_circle: ${esc(stateText(s))}` : `:large_yellow_circle: ${esc(stateText(s))}`;
  const fields = [
    `*Name*\n\`${s.name}\``,
    `*State*\n${state}`,
    `*URL*\n${link(s.url)}`,
    `*Owner*\n${who(s.owner)}`,
    `*Age*\n${age(s.created, now)}`,
    `*Image*\n\`${esc(s.image)}\``,
  ];
  return { type: 'section', fields: fields.map((t) => ({ type: 'mrkdwn', text: clip(t, FIELD_MAX) })) };
}

export function statusMessage(systems: SystemInfo[], prefix: string, now = Date.now()): Message {
  if (systems.length === 0) {
    const text = `No systems are running here. Start one with \`${prefix}up -n NAME -c IMAGE -p PORT\`.`;
    return { text, blocks: [section(text)] };
  }
  const shown = systems.slice(0, MAX_SYSTEMS_LISTED);
  const blocks: KnownBlock[] = [section(systems.length === 1 ? '*1 system*' : `*${systems.length} systems*`)];
  for (const s of shown) blocks.push({ type: 'divider' }, systemSection(s, now));
  if (systems.length > shown.length) blocks.push(context(`…and ${systems.length - shown.length} more. Ask for one with \`${prefix}status -n NAME\`.`));
  // 1 + 2×40 would pass Slack's 50-block cap; drop the dividers when there are many.
  const capped = blocks.length > 50 ? blocks.filter((b) => b.type !== 'divider') : blocks;
  return { text: esc(systems.map((s) => `${s.name}: ${stateText(s)}${s.url ? ` ${s.url}` : ''}`).join('\n')).slice(0, 3000), blocks: capped };
}

export function helpMessage(text: string): Message {
  return { text: esc(text), blocks: [section(`\`\`\`${esc(text)}\`\`\``)] };
}

export function usageMessage(reason: string, usage: string): Message {
  return { text: esc(`${reason}\n${usage}`), blocks: [section(`:warning: ${esc(reason)}`), context(`\`${esc(usage)}\``)] };
}

/** `text` is mrkdwn the caller built; escape anything in it that came from outside (esc). */
export function plainMessage(text: string): Message {
  return { text, blocks: [section(text)] };
}
