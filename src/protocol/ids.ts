/**
 * Identifiers shared by the widget and the server.
 * Patterns are plain RegExps so that the widget can check ids without pulling in the schema library.
 */

/** A site id: lower-case letters, digits, `-` and `_`, 1 to 64 characters. */
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** A category, service, purpose or channel id: same alphabet as a site id. */
export const ITEM_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** A device id: 128 random bits as 32 lower-case hex digits (never derived from the browser's traits). */
export const DEVICE_ID_PATTERN = /^[0-9a-f]{32}$/;
/** A receipt id: an RFC 9562 UUID (version 4 or 7), made where the decision was made: the idempotency key. */
export const RECEIPT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A notice hash: `sha256:` followed by 64 lower-case hex digits. */
export const NOTICE_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** How a decision was made. */
export const METHODS = [
  'accept-all',
  'reject-all',
  'preferences',
  'close',
  'gpc',
  'service',
  'email-link',
  'unsubscribe',
  'api',
  'renewal',
  'sync',
] as const;
export type Method = (typeof METHODS)[number];

/** Communication channels a purpose can be granted on (email preferences). */
export const CHANNELS = ['email', 'sms', 'phone', 'post', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
