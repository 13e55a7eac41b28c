/**
 * @module
 * The process logger: pino, JSON lines on stdout. Request logs never carry bodies, query strings or tokens;
 * `redact` also removes the usual secret-bearing headers should anything log a request object.
 */
import pino, { type Logger } from 'pino';

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'assenso' },
      redact: ['req.headers.authorization', 'req.headers.cookie', 'token', '*.token', 'secret', '*.secret'],
    },
    destination,
  );
}
