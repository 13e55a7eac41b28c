/** Protocol limits, in a file of their own so that the widget can import them without the schema library. */

/** Most receipts in one POST /v1/receipts. */
export const MAX_BATCH = 100;
/** Largest request body the API reads, in bytes (also the browsers' keepalive budget). */
export const MAX_BODY_BYTES = 64 * 1024;
