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
  revision: string;
  method: string;
  collectedAt: number;
  receivedAt: number;
  expiresAt: number;
}

/** One choice of a receipt: a `device_consent` row without the fields it shares with its receipt. */
export type ChoiceItem = Pick<DeviceChoiceRow, 'kind' | 'itemId' | 'granted' | 'expiresAt'>;

/** What a receipt adds to its device's current state: its choices, and the policy revision they were made under. */
export interface ReceiptChoices {
  revision: string;
  choices: readonly ChoiceItem[];
}

const INSERT_COLUMNS = [
  'receipt_id',
  'site_id',
  'device_id',
  'subject_id',
  'method',
  'collected_at',
  'received_at',
  'entry',
  'leaf_hash',
  'kid',
  'sig',
] as const;

const CHOICE_COLUMNS = [
  'site_id',
  'device_id',
  'kind',
  'item_id',
  'granted',
  'receipt_id',
  'revision',
  'method',
  'collected_at',
  'received_at',
  'expires_at',
] as const;

/** `($1, $2, …), ($n+1, …)` for `rows` rows of `width` parameters. */
function placeholders(rows: number, width: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++)
    out.push(`(${Array.from({ length: width }, (_, i) => `$${r * width + i + 1}`).join(', ')})`);
  return out.join(', ');
}

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

/**
 * Inserts receipts, skipping ids that already exist (concurrent duplicates wait for each other on the primary
 * key and store one row). Returns the ids actually inserted. Rows are inserted in id order so that two
 * transactions always take their locks in the same order (no deadlock between overlapping batches).
 */
export async function insertReceipts(tx: Queryable, rows: readonly ReceiptRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const sorted = [...rows].sort((a, b) =>
    a.receiptId < b.receiptId ? -1 : a.receiptId > b.receiptId ? 1 : 0,
  );
  const params = sorted.flatMap((r) => [
    r.receiptId,
    r.siteId,
    r.deviceId,
    r.subjectId,
    r.method,
    r.collectedAt,
    r.receivedAt,
    r.entry,
    r.leafHash,
    r.kid,
    r.sig,
  ]);
  const res = await tx.query<{ receipt_id: string }>(
    `INSERT INTO receipts (${INSERT_COLUMNS.join(', ')}) VALUES ${placeholders(sorted.length, INSERT_COLUMNS.length)}
     ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id`,
    params,
  );
  return new Set(res.rows.map((r) => r.receipt_id));
}

/** The stored receipts with these ids. */
export async function findReceipts(db: Queryable, ids: readonly string[]): Promise<Map<string, ReceiptRow>> {
  if (ids.length === 0) return new Map();
  const res = await db.query<RawReceiptRow>('SELECT * FROM receipts WHERE receipt_id = ANY($1::uuid[])', [
    [...ids],
  ]);
  return new Map(res.rows.map((r) => [r.receipt_id, toReceiptRow(r)]));
}

/**
 * Upserts current choices. A stored choice is replaced only by one the device made later: greater
 * `collected_at`, or the same and a later-or-equal `received_at`. Callers pass at most one row per key
 * (PostgreSQL refuses to update a row twice in one statement), sorted by key (stable lock order).
 */
export async function upsertDeviceChoices(tx: Queryable, rows: readonly DeviceChoiceRow[]): Promise<void> {
  if (rows.length === 0) return;
  const params = rows.flatMap((r) => [
    r.siteId,
    r.deviceId,
    r.kind,
    r.itemId,
    r.granted,
    r.receiptId,
    r.revision,
    r.method,
    r.collectedAt,
    r.receivedAt,
    r.expiresAt,
  ]);
  const updates = CHOICE_COLUMNS.slice(4)
    .map((col) => `${col} = EXCLUDED.${col}`)
    .join(', ');
  await tx.query(
    `INSERT INTO device_consent (${CHOICE_COLUMNS.join(', ')}) VALUES ${placeholders(rows.length, CHOICE_COLUMNS.length)}
     ON CONFLICT (site_id, device_id, kind, item_id) DO UPDATE SET ${updates}
     WHERE (device_consent.collected_at, device_consent.received_at) <= (EXCLUDED.collected_at, EXCLUDED.received_at)`,
    params,
  );
}

interface RawChoiceRow {
  kind: DeviceChoiceRow['kind'];
  item_id: string;
  granted: boolean;
  receipt_id: string;
  revision: string;
  method: string;
  collected_at: number | string;
  received_at: number | string;
  expires_at: number | string;
}

/** Every current choice of a device. */
export async function deviceChoices(
  db: Queryable,
  siteId: string,
  deviceId: string,
): Promise<DeviceChoiceRow[]> {
  const res = await db.query<RawChoiceRow>(
    `SELECT kind, item_id, granted, receipt_id, revision, method, collected_at, received_at, expires_at
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
    revision: r.revision,
    method: r.method,
    collectedAt: Number(r.collected_at),
    receivedAt: Number(r.received_at),
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

/**
 * The whole ingest commit as ONE statement (one round trip and, outside a transaction, one commit): inserts
 * the receipts (existing ids skipped, as `insertReceipts`) and upserts the current choices of the receipts
 * actually inserted (`choices[n]` are those of `rows[n]`), the newest per key (as `newestPerKey`: of equal
 * ones, the later receipt wins), with the only-if-later rule of `upsertDeviceChoices`. The rows travel as two
 * JSON texts (serialised natively, parsed by PostgreSQL in C) read side by side; the choices only with what
 * their receipt does not already say (a sixth of the bytes of whole `device_consent` rows). The text is the
 * same for any number of rows: PostgreSQL prepares it once per connection. Returns the ids inserted.
 */
export async function insertReceiptsWithChoices(
  db: Queryable,
  rows: readonly ReceiptRow[],
  choices: readonly ReceiptChoices[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  if (choices.length !== rows.length) throw new Error('insertReceiptsWithChoices: one choices entry per row');
  const key = 'site_id, device_id, kind, item_id';
  const updates = CHOICE_COLUMNS.slice(4)
    .map((col) => `${col} = EXCLUDED.${col}`)
    .join(', ');
  const res = await db.query<{ receipt_id: string }>(
    `WITH src AS MATERIALIZED (
       SELECT * FROM ROWS FROM (${recordsOf(RECEIPT_FIELDS, '$1::json')}, ${recordsOf(CHOICES_FIELDS, '$2::json')})
         WITH ORDINALITY AS r (${columnsOf(RECEIPT_FIELDS)}, ${columnsOf(CHOICES_FIELDS)}, n)
     ), ins AS (
       INSERT INTO receipts (${columnsOf(RECEIPT_FIELDS)})
       SELECT ${columnsOf(RECEIPT_FIELDS)} FROM src ORDER BY receipt_id
       ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id
     ), newest AS (
       SELECT DISTINCT ON (${key}) r.site_id, r.device_id, c.kind, c."itemId" AS item_id, c.granted,
         r.receipt_id, r.revision, r.method, r.collected_at, r.received_at, c."expiresAt" AS expires_at, r.n
       FROM src r CROSS JOIN LATERAL ${recordsOf(ITEM_FIELDS, 'r.choices', 'c ')}
       WHERE r.device_id IS NOT NULL AND r.receipt_id IN (SELECT receipt_id FROM ins)
       ORDER BY ${key}, collected_at DESC, received_at DESC, n DESC
     ), up AS (
       INSERT INTO device_consent (${CHOICE_COLUMNS.join(', ')})
       SELECT ${CHOICE_COLUMNS.join(', ')} FROM newest ORDER BY ${key}
       ON CONFLICT (${key}) DO UPDATE SET ${updates}
       WHERE (device_consent.collected_at, device_consent.received_at) <= (EXCLUDED.collected_at, EXCLUDED.received_at)
     )
     SELECT receipt_id FROM ins`,
    [JSON.stringify(rows), JSON.stringify(choices)],
    { name: 'assenso_ingest' },
  );
  return new Set(res.rows.map((r) => r.receipt_id));
}
