/** The Tear down button. Its value is only the system's name; the rest is read from Kubernetes. */
import type { AllMiddlewareArgs, App, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { ackClick } from '../button-click.js';
import { ACTION_TEARDOWN, type Message } from '../blocks.js';
import { forRequest, type BotContext } from '../context.js';
import { SlackIO, slackError } from '../slack-io.js';
import { teardown, type TeardownResult } from '../teardown.js';
import { clickPlace } from '../click-answer.js';

export type ButtonArgs = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'ack' | 'action' | 'body' | 'respond'> & Pick<AllMiddlewareArgs, 'client' | 'context'>;

/** An answer only the clicker sees, leaving the clicked message as it is. */
export function ephemeral(respond: ButtonArgs['respond'], ctx: BotContext): (m: Message) => Promise<void> {
  return async (m) => {
    try {
      await respond({ response_type: 'ephemeral', replace_original: false, ...m });
    } catch (e) {
      ctx.log.warn('could not answer through response_url', { error: slackError(e) });
    }
  };
}

export async function handleTeardownButton(args: ButtonArgs, ctx: BotContext): Promise<TeardownResult | undefined> {
  const { body, client } = args;
  const name = await ackClick(args);
  if (name === undefined) return undefined;
  const place = await clickPlace(args, name, ctx);
  const ts = (body.container['message_ts'] as string | undefined) ?? body.message?.ts;
  const result = await teardown(
    {
      name,
      userId: body.user.id,
      ...(place.channel ? { channelId: place.channel } : {}),
      via: 'slack-button',
      io: new SlackIO(client, ctx.log),
      tell: place.tell,
      // In a system's thread the buttons go and the thread says it is torn down. In the App
      // Home and a digest (one message, several systems) nothing is stripped, and the clicker is told.
      ...(!place.home && !place.direct && place.channel && ts ? { clicked: { channel: place.channel, ts, blocks: body.message?.['blocks'] as unknown[] | undefined } } : {}),
      confirm: place.home || place.direct,
    },
    ctx,
  );
  if (place.home) await ctx.home?.refresh(body.user.id);
  return result;
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_TEARDOWN, async (args) => {
    await handleTeardownButton(args, forRequest(ctx));
  });
}
