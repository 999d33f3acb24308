/**
 * The App Home's Home tab of one person: their own systems, each with its state, URL, age and
 * expiry, and Tear down, Extend and Logs buttons. A pure function, like blocks.ts: no Slack call.
 *
 * A Home view holds at most 100 blocks (Slack refuses more). Each system takes three (a
 * divider, its fields, its buttons), so the first HOME_SYSTEMS_SHOWN (oldest first: they
 * expire first) are shown, and a last line says how many more there are and how to list them.
 */
import type { types } from '@slack/bolt';
import type { SystemInfo } from '../k8s/spec.js';
import { age, stateText } from '../commands/format.js';
import { actionsBlock, extendButton, logsButton, teardownButton } from './blocks.js';
import { clipMd, code, link, md, slackDate, type Mrkdwn } from './slack-text.js';

type KnownBlock = types.KnownBlock;

/** Slack's limit for a Home view. */
export const HOME_BLOCKS_MAX = 100;
/** Two blocks of header, three per system, one last line: 2 + 3 × 30 + 1 = 93. */
export const HOME_SYSTEMS_SHOWN = 30;

export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

const text = (t: Mrkdwn, max: number) => ({ type: 'mrkdwn' as const, text: clipMd(t, max).text, verbatim: true });
const section = (t: Mrkdwn): KnownBlock => ({ type: 'section', text: text(t, 3000) });
const context = (t: Mrkdwn): KnownBlock => ({ type: 'context', elements: [text(t, 3000)] });

function stateOf(s: SystemInfo): Mrkdwn {
  if (s.ready) return md`:large_green_circle: ready`;
  return s.stage === 'failed' ? md`:red_circle: ${stateText(s)}` : md`:large_yellow_circle: ${stateText(s)}`;
}

function when(iso: string | null): Mrkdwn | undefined {
  const at = iso ? new Date(iso) : undefined;
  return at && Number.isFinite(at.getTime()) ? slackDate(at) : undefined;
}

function systemBlocks(s: SystemInfo, now: number): KnownBlock[] {
  const launched = when(s.created);
  const fields = [
    md`*Name*\n${code(s.name)}`,
    md`*State*\n${stateOf(s)}`,
    md`*URL*\n${s.url ? link(s.url) : md`_no address yet_`}`,
    md`*Age*\n${age(s.created, now)}${launched ? md` (since ${launched})` : md``}`,
    md`*Expires*\n${when(s.expires) ?? md`never`}`,
  ];
  const blocks: KnownBlock[] = [{ type: 'divider' }, { type: 'section', fields: fields.map((f) => text(f, 2000)) }];
  // A system being torn down has nothing left to click.
  if (s.stage !== 'terminating') blocks.push(actionsBlock([teardownButton(s.name), extendButton(s.name, s.expires), logsButton(s.name)], s.name));
  return blocks;
}

/** `systems`: the person's own, oldest first. `prefix`: the slash command as usage lines show it. */
export function homeView(systems: SystemInfo[], prefix: string, now = Date.now()): HomeView {
  if (systems.length === 0) {
    return { type: 'home', blocks: [section(md`*Your systems*`), section(md`You have no systems running. Start one with ${code(`${prefix}up -n NAME -c IMAGE -p PORT`)}.`)] };
  }
  const shown = systems.slice(0, HOME_SYSTEMS_SHOWN);
  const blocks: KnownBlock[] = [
    section(md`*Your systems* (${String(systems.length)})`),
    context(md`Tear down, Extend and Logs act as ${code(`${prefix}down`)}, ${code(`${prefix}extend`)} and ${code(`${prefix}logs`)} would; the answer comes as a direct message.`),
  ];
  for (const s of shown) blocks.push(...systemBlocks(s, now));
  if (systems.length > shown.length) blocks.push(context(md`…and ${String(systems.length - shown.length)} more. See them all with ${code(`${prefix}list`)}.`));
  return { type: 'home', blocks };
}
