/**
 * @module
 * Reads a JSON request body with a hard size limit and a content-type allow-list.
 * `text/plain` is accepted because `navigator.sendBeacon(url, string)` can send nothing else without a
 * preflight; its body must still be JSON.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpProblem } from '../errors.ts';

const ACCEPTED = ['application/json', 'text/plain'];

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The body of a Node request, or 'too-large' as soon as it exceeds `maxBytes` (the rest is left unread). */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Methods of one object, not `const f = () => …`: tsx (esbuild keepNames) names each arrow made per call
    // with Object.defineProperty, which cost ~2% of an ingest request's CPU here.
    const on = {
      data(chunk: Buffer) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          incoming.pause();
          on.done('too-large');
        } else chunks.push(chunk);
      },
      end() {
        on.done(Buffer.concat(chunks, size));
      },
      done(result: Buffer | 'too-large') {
        incoming.off('data', on.data).off('end', on.end).off('error', reject);
        resolve(result);
      },
    };
    incoming.on('data', on.data).on('end', on.end).on('error', reject);
  });
}

/** The body of a web Request (tests call the app without Node), with the same limit. */
async function readWebBody(c: Context, maxBytes: number): Promise<Buffer | 'too-large'> {
  const body = c.req.raw.body;
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return 'too-large';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

const tooLarge = (maxBytes: number) =>
  new HttpProblem(413, 'payload-too-large', `The body exceeds ${maxBytes} bytes`, { maxBytes });

/**
 * The same limit for routes that read their body through Hono (`c.req.json()`, `c.req.parseBody()`: the email
 * pages' forms, one-click unsubscribe, the widget's email-link exchange, the admin API), which read whatever
 * arrives: 413 from `Content-Length` before reading anything, else as soon as a streamed body passes the limit.
 * Not for routes that call readJsonBody, which reads the Node request itself.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
}

/**
 * Returns the parsed body. Throws 415 for another content type, 413 as soon as the body is known to exceed
 * `maxBytes` (from Content-Length before reading anything, else while streaming: nothing past the limit is
 * read), 400 `malformed-json` when it is not JSON (or not UTF-8).
 */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = mediaType(c.req.header('content-type'));
  if (!ACCEPTED.includes(type))
    throw new HttpProblem(
      415,
      'unsupported-media-type',
      `Send application/json or text/plain, not ${type || 'nothing'}`,
      {
        accepted: ACCEPTED,
      },
    );
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  // On Node, read the request stream itself: cheaper than the web stream Hono would build around it.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const bytes = incoming ? await readIncoming(incoming, maxBytes) : await readWebBody(c, maxBytes);
  if (bytes === 'too-large') throw tooLarge(maxBytes);
  if (bytes.byteLength === 0) throw new HttpProblem(400, 'malformed-json', 'The body is empty');
  // Checked, then decoded: a fatal TextDecoder made per request cost ~2% of an ingest request's CPU.
  if (!isUtf8(bytes)) throw new HttpProblem(400, 'malformed-json', 'The body is not valid UTF-8');
  let text = bytes.toString('utf8');
  // As TextDecoder did: a leading byte order mark is not part of the text.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'malformed-json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
