/**
 * @module
 * SQL for receipts and the per-device current decision. Receipts are append-only: nothing here updates one.
 */
import type { Queryable } from './db.ts';

/** A receipt row as committed (columns of `receipts`, see migrations/001-receipts.sql). */
export interface ReceiptRow {
  receiptId: string;
  siteId: string;
  deviceId: string | null;
  subjectId: string | null;
  method: string;
  collectedAt: number;
  receivedAt: number;
  /** Canonical JSON of `{ receipt, receivedAt }`: the signed bytes. */
  entry: string;
  leafHash: string;
  kid: string;
  sig: string;
  leafIndex: number | null;
}

/** One current choice of a device (a row of `device_consent`). */
export interface DeviceChoiceRow {
  siteId: string;
  deviceId: string;
  /** `receipt` (the latest receipt, item ''), `category`, `service` or `preference` (item `purpose.channel`). */
  kind: 'receipt' | 'category' | 'service' | 'preference';
  itemId: string;
  granted: boolean;
  receiptId: string;
  /** The `previousReceiptId` of that receipt. */
  previousReceiptId: string | null;
  revision: string;
  method: string;
  /** As the device said (its clock). */
  collectedAt: number;
  receivedAt: number;
  /**
   * The receipt's place in its device's order: `collectedAt` bounded by the server clock (device-clock.ts),
   * moved after the receipt it follows and before the one that follows it (see `insertReceiptsWithChoices`).
   */
  orderAt: number;
  /**
   * As the server counts it (services/consent-lifetime.ts): moved back by as much as the device clock was ahead
   * of the server's, and never more than the longest lifetime after the receipt's time.
   */
  expiresAt: number;
}

/** One choice of a receipt: a `device_consent` row without the fields it shares with its receipt. */
export type ChoiceItem = Pick<DeviceChoiceRow, 'kind' | 'itemId' | 'granted' | 'expiresAt'>;

/** What a receipt adds to its device's current state. */
export interface ReceiptChoices {
  /** The policy revision the choices were made under. */
  revision: string;
  /** The receipt's `previousReceiptId`: the chain that orders one device's receipts. */
  previousReceiptId: string | null;
  /** `collectedAt` bounded by the server clock (device-clock.ts): its time where no link in the chain decides. */
  boundedAt: number;
  /** Its choices, expiries already bounded. */
  choices: readonly ChoiceItem[];
}

const CHOICE_COLUMNS = [
  'site_id',
  'device_id',
  'kind',
  'item_id',
  'granted',
  'receipt_id',
  'previous_receipt_id',
  'revision',
  'method',
  'collected_at',
  'received_at',
  'order_at',
  'expires_at',
] as const;

interface RawReceiptRow {
  receipt_id: string;
  site_id: string;
  device_id: string | null;
  subject_id: string | null;
  method: string;
  collected_at: number | string;
  received_at: number | string;
  entry: string;
  leaf_hash: string;
  kid: string;
  sig: string;
  leaf_index: number | string | null;
}

const toReceiptRow = (r: RawReceiptRow): ReceiptRow => ({
  receiptId: r.receipt_id,
  siteId: r.site_id,
  deviceId: r.device_id,
  subjectId: r.subject_id,
  method: r.method,
  collectedAt: Number(r.collected_at),
  receivedAt: Number(r.received_at),
  entry: r.entry,
  leafHash: r.leaf_hash,
  kid: r.kid,
  sig: r.sig,
  leafIndex: r.leaf_index === null ? null : Number(r.leaf_index),
});

/** The stored receipts with these ids. */
export async function findReceipts(db: Queryable, ids: readonly string[]): Promise<Map<string, ReceiptRow>> {
  if (ids.length === 0) return new Map();
  const res = await db.query<RawReceiptRow>('SELECT * FROM receipts WHERE receipt_id = ANY($1::uuid[])', [
    [...ids],
  ]);
  return new Map(res.rows.map((r) => [r.receipt_id, toReceiptRow(r)]));
}

interface RawChoiceRow {
  kind: DeviceChoiceRow['kind'];
  item_id: string;
  granted: boolean;
  receipt_id: string;
  previous_receipt_id: string | null;
  revision: string;
  method: string;
  collected_at: number | string;
  received_at: number | string;
  order_at: number | string;
  expires_at: number | string;
}

/** Every current choice of a device. */
export async function deviceChoices(
  db: Queryable,
  siteId: string,
  deviceId: string,
): Promise<DeviceChoiceRow[]> {
  const res = await db.query<RawChoiceRow>(
    `SELECT ${CHOICE_COLUMNS.slice(2).join(', ')}
     FROM device_consent WHERE site_id = $1 AND device_id = $2 ORDER BY kind, item_id`,
    [siteId, deviceId],
  );
  return res.rows.map((r) => ({
    siteId,
    deviceId,
    kind: r.kind,
    itemId: r.item_id,
    granted: r.granted,
    receiptId: r.receipt_id,
    previousReceiptId: r.previous_receipt_id,
    revision: r.revision,
    method: r.method,
    collectedAt: Number(r.collected_at),
    receivedAt: Number(r.received_at),
    orderAt: Number(r.order_at),
    expiresAt: Number(r.expires_at),
  }));
}

/** The id of the device's latest receipt (its `receipt` row in device_consent), or null. */
export async function latestDeviceReceiptId(
  db: Queryable,
  siteId: string,
  deviceId: string,
): Promise<string | null> {
  const res = await db.query<{ receipt_id: string }>(
    `SELECT receipt_id FROM device_consent WHERE site_id = $1 AND device_id = $2 AND kind = 'receipt' AND item_id = ''`,
    [siteId, deviceId],
  );
  return res.rows[0]?.receipt_id ?? null;
}

/** Column, field and SQL type of each value `insertReceiptsWithChoices` writes. */
const RECEIPT_FIELDS = [
  ['receipt_id', 'receiptId', 'uuid'],
  ['site_id', 'siteId', 'text'],
  ['device_id', 'deviceId', 'text'],
  ['subject_id', 'subjectId', 'text'],
  ['method', 'method', 'text'],
  ['collected_at', 'collectedAt', 'bigint'],
  ['received_at', 'receivedAt', 'bigint'],
  ['entry', 'entry', 'text'],
  ['leaf_hash', 'leafHash', 'text'],
  ['kid', 'kid', 'text'],
  ['sig', 'sig', 'text'],
] as const satisfies readonly (readonly [string, keyof ReceiptRow, string])[];
const CHOICES_FIELDS = [
  ['revision', 'revision', 'text'],
  ['previous_receipt_id', 'previousReceiptId', 'uuid'],
  ['bounded_at', 'boundedAt', 'bigint'],
  ['choices', 'choices', 'json'],
] as const satisfies readonly (readonly [string, keyof ReceiptChoices, string])[];
const ITEM_FIELDS = [
  ['kind', 'kind', 'text'],
  ['item_id', 'itemId', 'text'],
  ['granted', 'granted', 'boolean'],
  ['expires_at', 'expiresAt', 'bigint'],
] as const satisfies readonly (readonly [string, keyof ChoiceItem, string])[];

/** `json_to_recordset(json) AS alias(…)` reading row objects as JSON.stringify writes them. */
const recordsOf = (fields: readonly (readonly [string, string, string])[], json: string, alias = '') =>
  `json_to_recordset(${json}) AS ${alias}(${fields.map(([, field, type]) => `"${field}" ${type}`).join(', ')})`;

const columnsOf = (fields: readonly (readonly [string, string, string])[]) =>
  fields.map(([c]) => c).join(', ');

/** `a` and `b` are rows of the same device. */
const sameDevice = (a: string, b: string) =>
  `${a}.site_id = ${b}.site_id AND ${a}.device_id = ${b}.device_id`;

/**
 * The whole ingest commit as ONE statement (one round trip and, outside a transaction, one commit): inserts
 * the receipts, skipping ids already stored (concurrent duplicates wait for each other on the primary key and
 * store one row; rows go in id order, so overlapping batches take their locks in one order), and upserts the
 * current choices of the receipts actually inserted (`choices[n]` are those of `rows[n]`). Returns the ids
 * inserted.
 *
 * Which receipt of a device is newer (docs/protocol.md, "Order and clocks") is decided by `order_at`, given to
 * each new receipt of a device here, against the device's latest receipt L as stored (its `receipt` row, read
 * FOR UPDATE: as a concurrent batch of the device committed it, not as this statement's snapshot saw it):
 * - a receipt that follows L (`previousReceiptId` = L) goes after it: `max(boundedAt, L + 1)`, whatever the
 *   clocks say; so does one that follows another receipt of the batch, after that one;
 * - the receipt L follows (one that arrived late) goes before it, `min(boundedAt, L - 1)`, and so on back
 *   through the receipts of the batch it follows: it never replaces L;
 * - any other receipt keeps its `boundedAt` (the device clock, bounded by the server's): the fallback.
 * A stored choice is replaced by one whose `(order_at, received_at)` is greater or equal, except that the
 * direct links are checked again against the stored row itself (its receipt and that receipt's previous one);
 * of a batch's receipts, the greatest `order_at`, then the later in the batch, wins. The chain is walked by two
 * recursive queries, no deeper than the batch has receipts (a forged cycle of ids cannot loop). Receipts two
 * links or more apart with none of the links in the batch (A stored after B and C, which follows B) are not
 * related here: the bounded clock orders them.
 *
 * The rows travel as two JSON texts (serialised natively, parsed by PostgreSQL in C) read side by side; the
 * choices only with what their receipt does not already say (a sixth of the bytes of whole `device_consent`
 * rows). The text is the same for any number of rows: PostgreSQL prepares it once per connection.
 */
export async function insertReceiptsWithChoices(
  db: Queryable,
  rows: readonly ReceiptRow[],
  choices: readonly ReceiptChoices[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  if (choices.length !== rows.length) throw new Error('insertReceiptsWithChoices: one choices entry per row');
  const key = 'site_id, device_id, kind, item_id';
  // The direct links again, against the stored row itself: a batch of the same device committed after this
  // statement's snapshot (its first receipts, which no lock could wait for) is still seen here.
  const follows = 'EXCLUDED.previous_receipt_id = device_consent.receipt_id';
  const followed = 'device_consent.previous_receipt_id IS NOT DISTINCT FROM EXCLUDED.receipt_id';
  const updates = CHOICE_COLUMNS.slice(4)
    .map((col) =>
      col === 'order_at'
        ? `order_at = CASE WHEN ${follows} THEN GREATEST(EXCLUDED.order_at, device_consent.order_at + 1) ELSE EXCLUDED.order_at END`
        : `${col} = EXCLUDED.${col}`,
    )
    .join(', ');
  const walked = 'site_id, device_id, receipt_id, previous_receipt_id, order_at, depth';
  const res = await db.query<{ receipt_id: string }>(
    `WITH RECURSIVE src AS MATERIALIZED (
       SELECT * FROM ROWS FROM (${recordsOf(RECEIPT_FIELDS, '$1::json')}, ${recordsOf(CHOICES_FIELDS, '$2::json')})
         WITH ORDINALITY AS r (${columnsOf(RECEIPT_FIELDS)}, ${columnsOf(CHOICES_FIELDS)}, n)
     ), ins AS (
       INSERT INTO receipts (${columnsOf(RECEIPT_FIELDS)})
       SELECT ${columnsOf(RECEIPT_FIELDS)} FROM src ORDER BY receipt_id
       ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id
     ), fresh AS MATERIALIZED (
       SELECT site_id, device_id, receipt_id, previous_receipt_id, bounded_at FROM src
       WHERE device_id IS NOT NULL AND receipt_id IN (SELECT receipt_id FROM ins)
     ), latest AS MATERIALIZED (
       SELECT l.* FROM (SELECT DISTINCT site_id, device_id FROM fresh ORDER BY site_id, device_id) f,
         LATERAL (SELECT site_id, device_id, receipt_id, previous_receipt_id, order_at FROM device_consent d
                  WHERE ${sameDevice('d', 'f')} AND kind = 'receipt' AND item_id = '' FOR UPDATE) l
     ), earlier (${walked}) AS (
       SELECT f.site_id, f.device_id, f.receipt_id, f.previous_receipt_id, LEAST(f.bounded_at, l.order_at - 1), 1
       FROM fresh f JOIN latest l ON ${sameDevice('l', 'f')} AND l.previous_receipt_id = f.receipt_id
       UNION ALL
       SELECT f.site_id, f.device_id, f.receipt_id, f.previous_receipt_id, LEAST(f.bounded_at, e.order_at - 1), e.depth + 1
       FROM fresh f JOIN earlier e ON ${sameDevice('e', 'f')} AND e.previous_receipt_id = f.receipt_id
       WHERE e.depth < (SELECT count(*) FROM fresh)
     ), ordered (${walked}) AS (
       SELECT f.site_id, f.device_id, f.receipt_id, f.previous_receipt_id, GREATEST(f.bounded_at, l.order_at + 1), 1
       FROM fresh f JOIN latest l ON ${sameDevice('l', 'f')} AND f.previous_receipt_id = l.receipt_id
       WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e.receipt_id = f.receipt_id)
       UNION ALL
       SELECT ${walked} FROM earlier
       UNION ALL
       SELECT f.site_id, f.device_id, f.receipt_id, f.previous_receipt_id, f.bounded_at, 1 FROM fresh f
       WHERE NOT EXISTS (SELECT 1 FROM fresh p WHERE ${sameDevice('p', 'f')} AND p.receipt_id = f.previous_receipt_id)
         AND NOT EXISTS (SELECT 1 FROM latest l WHERE ${sameDevice('l', 'f')} AND l.receipt_id = f.previous_receipt_id)
         AND NOT EXISTS (SELECT 1 FROM earlier e WHERE e.receipt_id = f.receipt_id)
       UNION ALL
       SELECT f.site_id, f.device_id, f.receipt_id, f.previous_receipt_id, GREATEST(f.bounded_at, o.order_at + 1), o.depth + 1
       FROM fresh f JOIN ordered o ON ${sameDevice('o', 'f')} AND f.previous_receipt_id = o.receipt_id
       WHERE o.depth < (SELECT count(*) FROM fresh) AND NOT EXISTS (SELECT 1 FROM earlier e WHERE e.receipt_id = f.receipt_id)
     ), newest AS (
       SELECT DISTINCT ON (${key}) r.site_id, r.device_id, c.kind, c."itemId" AS item_id, c.granted,
         r.receipt_id, r.previous_receipt_id, r.revision, r.method, r.collected_at, r.received_at,
         COALESCE(o.order_at, r.bounded_at) AS order_at, c."expiresAt" AS expires_at
       FROM src r
       LEFT JOIN (SELECT DISTINCT ON (receipt_id) receipt_id, order_at FROM ordered ORDER BY receipt_id, depth) o
         ON o.receipt_id = r.receipt_id
       CROSS JOIN LATERAL ${recordsOf(ITEM_FIELDS, 'r.choices', 'c ')}
       WHERE r.receipt_id IN (SELECT receipt_id FROM fresh)
       ORDER BY ${key}, order_at DESC, received_at DESC, r.n DESC
     ), up AS (
       INSERT INTO device_consent (${CHOICE_COLUMNS.join(', ')})
       SELECT ${CHOICE_COLUMNS.join(', ')} FROM newest ORDER BY ${key}
       ON CONFLICT (${key}) DO UPDATE SET ${updates}
       WHERE NOT ${followed} AND (${follows}
         OR (device_consent.order_at, device_consent.received_at) <= (EXCLUDED.order_at, EXCLUDED.received_at))
     )
     SELECT receipt_id FROM ins`,
    [JSON.stringify(rows), JSON.stringify(choices)],
    { name: 'assenso_ingest' },
  );
  return new Set(res.rows.map((r) => r.receipt_id));
}
