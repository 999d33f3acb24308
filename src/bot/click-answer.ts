/**
 * Where a button was clicked, for the commands it runs, and how its answer reaches the clicker.
 *
 * - In a channel (a thread's buttons): the channel is the click's, and the answer is ephemeral
 *   through the click's response_url, as for the slash command.
 * - In the App Home tab: Slack's payload has the view, but no channel, no message and no
 *   response_url, so nothing can be shown to the clicker alone there. The answer goes as a
 *   direct message from Tycho (chat.postMessage to the user ID: the app's Messages tab), and
 *   the Home tab is published again so it shows the change.
 * - In a direct message from Tycho (the daily digest): the answer is ephemeral there.
 *
 * The policy's channels.allow is about where people may ask Tycho for things; the App Home and
 * a DM are no channel. A click there acts on a system that was launched in an allowed channel,
 * so the rules see the channel of that system's thread (none for a system launched by REST or
 * the CLI, which channels.allow then refuses, as it refuses a command from an unlisted channel).
 */
import { ANN_SLACK_CHANNEL } from '../k8s/labels.js';
import type { Message } from './blocks.js';
import type { BotContext } from './context.js';
import { SlackIO } from './slack-io.js';
import { ephemeral, type ButtonArgs } from './listeners/teardown-button.js';

export interface ClickPlace {
  /** The channel the rules and the audit line see (see above). */
  channel: string | undefined;
  /** Clicked in the App Home tab. */
  home: boolean;
  /** Clicked in a direct message (a digest). */
  direct: boolean;
  /** Tells the clicker only. */
  tell: (m: Message) => Promise<void>;
}

export async function clickPlace(args: ButtonArgs, name: string, ctx: BotContext): Promise<ClickPlace> {
  const { body, respond, client } = args;
  const home = body.container?.['type'] === 'view' || body.view?.type === 'home';
  const clicked = body.channel?.id ?? (body.container?.['channel_id'] as string | undefined);
  const direct = !home && !!clicked?.startsWith('D');
  const channel = home || direct ? await systemChannel(name, ctx) : clicked;
  if (!home) return { channel, home, direct, tell: ephemeral(respond, ctx) };
  const io = new SlackIO(client, ctx.log);
  return { channel, home, direct, tell: async (m) => void (await io.post(body.user.id, m)) };
}

async function systemChannel(name: string, ctx: BotContext): Promise<string | undefined> {
  try {
    return (await ctx.launcher.status(name)).annotations[ANN_SLACK_CHANNEL];
  } catch {
    return undefined; // gone, or unreadable: the command says which when it runs
  }
}
