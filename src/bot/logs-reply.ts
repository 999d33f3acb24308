/**
 * `/tycho logs` in Slack: the last lines of a system's log, posted in the system's thread (its
 * Deployment records where: tycho.renci.org/slack-channel and slack-ts) when asked in that
 * thread's channel; asked from another channel, or for a system launched elsewhere, answered
 * where it was asked. The text is already redacted (commands/redact.ts).
 *
 * Short logs go in a code block. A section holds at most 3000 characters (slack-platform.md), so
 * a longer one is uploaded as a file with Slack's current flow: files.getUploadURLExternal, an
 * HTTP POST of the bytes to the upload_url it hands out, then files.completeUploadExternal to
 * share it in the channel (and thread). That needs the files:write scope (manifest.yml).
 */
import type { LogsResult } from '../commands/logs.js';
import * as labels from '../k8s/labels.js';
import { plainMessage, type Message } from './blocks.js';
import type { ThreadRef, WebClient } from './context.js';
import { slackError, type SlackIO } from './slack-io.js';
import { code, codeBlock, md, mention, type Mrkdwn } from './slack-text.js';
import type { Logger } from '../log.js';

/**
 * The longest log posted as a code block, in characters as Slack receives them (escaped): under
 * the 3000 of one section, with room for the line that introduces it.
 */
export const LOG_BLOCK_MAX_CHARS = 2800;

export interface LogsReplyArgs {
  result: LogsResult;
  /** Who asked, for the introduction. */
  userId: string;
  /** Where the command was typed. */
  channelId: string;
  io: SlackIO;
  /** Tells only the person who asked. */
  tell: (m: Message) => Promise<void>;
  log: Logger;
}

function threadOf(a: Record<string, string>): ThreadRef | undefined {
  const channel = a[labels.ANN_SLACK_CHANNEL];
  const ts = a[labels.ANN_SLACK_TS];
  return channel && ts ? { channel, ts } : undefined;
}

function lineCount(text: string): number {
  return text === '' ? 0 : text.replace(/\n$/, '').split('\n').length;
}

function introduction(r: LogsResult, userId: string): Mrkdwn {
  const n = lineCount(r.text);
  const which = r.previous ? md`previous run's log` : md`log`;
  const redacted = r.redacted ? md` (${String(r.redacted)} secret${r.redacted === 1 ? '' : 's'} replaced by [REDACTED])` : md``;
  return md`:page_facing_up: The last ${String(n)} line${n === 1 ? '' : 's'} of ${code(r.name)}'s ${which}${redacted}, asked by ${mention({ id: `slack:${userId}`, display: userId })}:`;
}

/** The log as one message when it fits in a code block; undefined when it must be a file. */
export function logsMessage(r: LogsResult, userId: string): Message | undefined {
  if (r.text.trim() === '') return plainMessage(md`${introduction(r, userId)} _(empty)_`);
  const block = codeBlock(r.text.replace(/\n$/, ''));
  if (block.text.length > LOG_BLOCK_MAX_CHARS) return undefined;
  return plainMessage(md`${introduction(r, userId)}\n${block}`);
}

/** The file a long log is uploaded as. */
export function logFileName(r: LogsResult): string {
  return `${r.name}${r.previous ? '-previous' : ''}.log`;
}

/** Slack's upload flow; throws with Slack's error when a step is refused. */
export async function uploadLog(client: WebClient, o: { channel: string; threadTs?: string; filename: string; content: string; comment: string }): Promise<void> {
  const bytes = Buffer.from(o.content, 'utf8');
  const got = await client.files.getUploadURLExternal({ filename: o.filename, length: bytes.length, snippet_type: 'text' });
  if (!got.upload_url || !got.file_id) throw new Error('files.getUploadURLExternal gave no upload_url');
  const sent = await fetch(got.upload_url, { method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: bytes, signal: AbortSignal.timeout(30_000) });
  if (!sent.ok) throw new Error(`the upload answered HTTP ${sent.status}`);
  await client.files.completeUploadExternal({
    files: [{ id: got.file_id, title: o.filename }],
    channel_id: o.channel,
    ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
    initial_comment: o.comment,
  });
}

/** Posts (or uploads) the log where it belongs, and tells the person where it went. */
export async function replyWithLogs(a: LogsReplyArgs): Promise<void> {
  const { result: r, io } = a;
  const recorded = threadOf(r.system.annotations);
  // In the thread when asked in its channel; a slash command cannot be typed in a thread itself.
  const thread = recorded && recorded.channel === a.channelId ? recorded : undefined;
  const short = logsMessage(r, a.userId);
  if (short) {
    if (!thread) return a.tell(short);
    const ts = await io.post(thread.channel, short, thread.ts);
    if (!ts) return a.tell(short);
    return a.tell(plainMessage(md`Posted the last lines of ${code(r.name)}'s log in its thread.`));
  }
  const channel = thread?.channel ?? a.channelId;
  try {
    await uploadLog(io.client, { channel, ...(thread ? { threadTs: thread.ts } : {}), filename: logFileName(r), content: r.text, comment: introduction(r, a.userId).text });
    if (thread) await a.tell(plainMessage(md`Uploaded the last lines of ${code(r.name)}'s log to its thread, as a file.`));
  } catch (e) {
    a.log.warn('could not upload a log to Slack', { system: r.name, channel, error: slackError(e) });
    await a.tell(plainMessage(md`:x: Slack did not take the log of ${code(r.name)} as a file (${slackError(e)}); its last lines are too long for a message. Try a smaller --tail.`));
  }
}
