/**
 * @module
 * Reads a JSON request body with a hard size limit and a content-type allow-list.
 * `text/plain` is accepted because `navigator.sendBeacon(url, string)` can send nothing else without a
 * preflight; its body must still be JSON.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HttpProblem } from '../errors.ts';

const ACCEPTED = ['application/json', 'text/plain'];

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The body of a Node request, or 'too-large' as soon as it exceeds `maxBytes` (the rest is left unread). */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Uint8Array | 'too-large') => {
      incoming.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        incoming.pause();
        done('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    incoming.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

/** The body of a web Request (tests call the app without Node), with the same limit. */
async function readWebBody(c: Context, maxBytes: number): Promise<Uint8Array | 'too-large'> {
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
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
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
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
  const tooLarge = () =>
    new HttpProblem(413, 'payload-too-large', `The body exceeds ${maxBytes} bytes`, { maxBytes });
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  // On Node, read the request stream itself: cheaper than the web stream Hono would build around it.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const bytes = incoming ? await readIncoming(incoming, maxBytes) : await readWebBody(c, maxBytes);
  if (bytes === 'too-large') throw tooLarge();
  if (bytes.byteLength === 0) throw new HttpProblem(400, 'malformed-json', 'The body is empty');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem(400, 'malformed-json', 'The body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'malformed-json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
