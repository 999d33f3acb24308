/** Every listener, registered in one call from app.ts. */
import type { App } from '@slack/bolt';
import type { BotContext } from '../context.js';
import * as extendButton from './extend-button.js';
import * as logsButton from './logs-button.js';
import * as restartButton from './restart-button.js';
import * as homeOpened from './home-opened.js';
import * as slashCommand from './slash-command.js';
import * as statusButton from './status-button.js';
import * as teardownButton from './teardown-button.js';

export function registerListeners(app: App, ctx: BotContext): void {
  slashCommand.register(app, ctx);
  teardownButton.register(app, ctx);
  statusButton.register(app, ctx);
  extendButton.register(app, ctx);
  restartButton.register(app, ctx);
  logsButton.register(app, ctx);
  homeOpened.register(app, ctx);
}
