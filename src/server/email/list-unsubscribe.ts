/**
 * @module
 * RFC 2369 / RFC 8058 headers for an outgoing email: `List-Unsubscribe` with the one-click HTTPS URL (and an
 * optional mailto:), and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, which tells mailbox providers
 * that a plain POST to the URL unsubscribes without any further step.
 */

export interface ListUnsubscribeHeaders {
  'List-Unsubscribe': string;
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click';
}

/** The input URLs are not usable in the headers. */
export class ListUnsubscribeError extends Error {
  override name = 'ListUnsubscribeError';
}

/**
 * Builds the two headers. RFC 8058 requires an HTTPS URL (http is accepted only for a loopback host, in
 * development) and forbids angle brackets, commas and white space inside it.
 * @example
 * const { unsubscribeUrl } = await fetchLinks(); // POST /v1/admin/links
 * Object.assign(mail.headers, listUnsubscribeHeaders({ unsubscribeUrl, mailto: 'unsubscribe@example.com' }));
 */
export function listUnsubscribeHeaders(urls: {
  unsubscribeUrl: string;
  mailto?: string;
}): ListUnsubscribeHeaders {
  let url: URL;
  try {
    url = new URL(urls.unsubscribeUrl);
  } catch {
    throw new ListUnsubscribeError('unsubscribeUrl is not an absolute URL');
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new ListUnsubscribeError('RFC 8058 requires an https: unsubscribe URL');
  const parts = [`<${url.href}>`];
  if (urls.mailto) {
    const mailto = urls.mailto.startsWith('mailto:') ? urls.mailto : `mailto:${urls.mailto}`;
    if (/[<>,\s]/.test(mailto))
      throw new ListUnsubscribeError('mailto must not contain <, >, commas or spaces');
    parts.push(`<${mailto}>`);
  }
  return { 'List-Unsubscribe': parts.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
