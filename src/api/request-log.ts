/**
 * One line per REST request (pino-http: method, path, status, time taken), and a request id that
 * every other line about the request carries too. The id is also the answer's X-Request-Id
 * header, so a caller can quote it to whoever reads the log.
 */
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { newLogId, redactFields, type Logger } from '../log.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';

export function requestLogging(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log.child({ component: 'rest' }).pino,
    genReqId: (_req, res) => {
      const id = newLogId();
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    // Lines logged during the request carry only its id; the closing line has the request itself.
    quietReqLogger: true,
    // pino-http hands these its standard serialisation (headers, URL, …); Tycho's masking goes on top.
    serializers: { req: redactFields, res: redactFields, err: redactFields },
  });
}

/** The logger for one REST request: its lines carry the request's id. */
export function requestLog(req: Request, log: Logger): Logger {
  return log.child({ reqId: req.id });
}
