/** Bolt and its Web API client log through Tycho's pino logger, which masks tokens. */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../log.js';

const ORDER = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

function line(parts: unknown[]): string {
  return parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
}

export function boltLogger(log: Logger, initial: LogLevel = LogLevel.INFO): BoltLogger {
  let level = initial;
  // Bolt names each of its parts (bolt-app, web-api:WebClient:0, socket-mode:…): that is the component.
  let named = log.child({ component: 'bolt' });
  const at =
    (l: LogLevel, write: (to: Logger, msg: string) => void) =>
    (...parts: unknown[]) => {
      if (ORDER.indexOf(l) >= ORDER.indexOf(level)) write(named, line(parts));
    };
  return {
    debug: at(LogLevel.DEBUG, (to, m) => to.debug(m)),
    info: at(LogLevel.INFO, (to, m) => to.info(m)),
    warn: at(LogLevel.WARN, (to, m) => to.warn(m)),
    error: at(LogLevel.ERROR, (to, m) => to.error(m)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n) => {
      named = log.child({ component: n });
    },
  };
}
