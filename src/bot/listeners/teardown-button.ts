/** The Tear down button. Its value is only the system's name; the rest is read from Kubernetes. */
import type { AllMiddlewareArgs, App, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { checkName } from '../../k8s/validate.js';
import { ACTION_TEARDOWN, type Message } from '../blocks.js';
import { forRequest, type BotContext } from '../context.js';
import { SlackIO, slackError } from '../slack-io.js';
import { teardown, type TeardownResult } from '../teardown.js';

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
  const { ack, action, body, respond, client, context } = args;
  await ack();
  if (context.retryNum) return undefined;
  const name = action.value ?? '';
  if (checkName(name)) return undefined; // not a value our buttons carry
  const channel = body.channel?.id ?? (body.container['channel_id'] as string | undefined);
  const ts = (body.container['message_ts'] as string | undefined) ?? body.message?.ts;
  return teardown(
    {
      name,
      userId: body.user.id,
      ...(channel ? { channelId: channel } : {}),
      via: 'slack-button',
      io: new SlackIO(client, ctx.log),
      tell: ephemeral(respond, ctx),
      ...(channel && ts ? { clicked: { channel, ts, blocks: body.message?.['blocks'] as unknown[] | undefined } } : {}),
      confirm: false,
    },
    ctx,
  );
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_TEARDOWN, async (args) => {
    await handleTeardownButton(args, forRequest(ctx));
  });
}
