/** Version of the receipt format. A server accepts every version it knows; a widget sends exactly this one. */
export const RECEIPT_SCHEMA = 'assenso.receipt/1' as const;
/** Version of the HTTP API, the first path segment of every endpoint (`/v1/...`). */
export const API_VERSION = 'v1' as const;
