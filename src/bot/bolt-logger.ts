/** Bolt and its Web API client log through Tycho's logger, which masks tokens. */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../server/log.js';

const ORDER = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

function line(parts: unknown[]): string {
  return parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
}

export function boltLogger(log: Logger, initial: LogLevel = LogLevel.INFO): BoltLogger {
  let level = initial;
  let name = 'slack';
  const at =
    (l: LogLevel, write: (msg: string) => void) =>
    (...parts: unknown[]) => {
      if (ORDER.indexOf(l) >= ORDER.indexOf(level)) write(`${name}: ${line(parts)}`);
    };
  return {
    debug: at(LogLevel.DEBUG, (m) => log.debug(m)),
    info: at(LogLevel.INFO, (m) => log.info(m)),
    warn: at(LogLevel.WARN, (m) => log.warn(m)),
    error: at(LogLevel.ERROR, (m) => log.error(m)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n) => {
      name = n;
    },
  };
}
