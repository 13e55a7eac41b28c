/**
 * @module
 * "Everything you hold about me": one JSON document per person (GDPR art. 15 and 20).
 *
 * Rather than a list of tables to keep in step with every migration, it asks the schema: every table with a
 * `subject_id` column gives the person's rows; every table with a `device_id` column (and no `subject_id`)
 * gives the rows of the person's linked devices. Contact data is decrypted (or masked, or left out, by
 * `contacts`); columns that are secrets or lookup hashes are left out (they mean nothing to the person and
 * would help an attacker). Receipts come with their signature and leaf index, so the person can check them.
 *
 * Nothing is rewritten: receipts and rows are as stored. Beside them, the export says what holds at its time
 * (`generatedAt`): each receipt's `effective` state, and `effective_granted`/`expired` on rows that record a
 * grant with an expiry (`device_consent`, `email_preferences`): a grant past its expiry counts as denied, and so
 * does a device's choice made under another policy revision than its latest receipt (flagged `outdated`).
 *
 * @example
 * const doc = await exportSubject({ db, contacts }, { siteId: 'shop', subjectId, contacts: 'plain' });
 */
import type { Queryable } from '../db/db.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import { type ReceiptEffect, receiptEffect } from '../services/consent-expiry.ts';
import type { ContactStore } from './contact-store.ts';
import { maskContact } from './contact-store.ts';

export const SUBJECT_EXPORT_FORMAT = 'assenso-subject-export/v1';

/** Tables that describe the server, not people, or that are exported in their own shape. */
const SKIPPED_TABLES = new Set([
  'assenso_migrations',
  'admin_keys',
  'access_log',
  'access_log_heads',
  'contacts',
  'contact_key_rotations',
  'retention_runs',
  'log_nodes',
  'log_checkpoints',
  'rate_limits',
]);
/** Columns never exported: secrets, hashes used for lookup, ciphertexts. */
const SKIPPED_COLUMNS = new Set([
  'id_hash',
  'csrf',
  'code_hash',
  'jti_hash',
  'secret_hash',
  'lookup_hash',
  'value_enc',
  'claimed_by',
  'lease_until',
]);

export interface SubjectExport {
  format: typeof SUBJECT_EXPORT_FORMAT;
  generatedAt: number;
  siteId: string;
  subjectId: string;
  /** The person's contact data, decrypted (`plain`), masked, or absent (`none`). */
  contacts: Array<{
    kind: string;
    value: string | null;
    createdAt: number;
    updatedAt: number;
    error?: string;
  }>;
  /** Device ids linked to the person on this site. */
  devices: string[];
  /** Signed receipts: the stored entry (parsed), signature and position in the site's log. */
  receipts: Array<{
    receiptId: string;
    receivedAt: number;
    leafIndex: number | null;
    kid: string;
    sig: string;
    entry: unknown;
    /** What the receipt still grants at `generatedAt` (expired grants denied); the entry stays as signed. */
    effective: ReceiptEffect;
  }>;
  /** Every other row about the person, by table. */
  records: Record<string, Array<Record<string, unknown>>>;
  /** Who looked at the person's data (when, what, which role): never the admins' keys or addresses. */
  accessLog: Array<{ at: number; action: string; role: string }>;
}

interface ColumnRow {
  table_name: string;
  column_name: string;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A row as exported. `outdated`: a `device_consent` choice made under another policy revision than its device's
 * latest receipt, which no longer counts (docs/protocol.md, "GET /v1/consent"): granted by nobody now, and not
 * expired either.
 */
function plainRow(row: Record<string, unknown>, now: number, outdated = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (SKIPPED_COLUMNS.has(k)) continue;
    out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? Number(v) : v;
  }
  // A recorded grant with an expiry: what it means now, beside what was recorded.
  if (typeof row.granted === 'boolean' && row.expires_at != null) {
    const lapsed = Number(row.expires_at) <= now;
    out.effective_granted = row.granted && !lapsed && !outdated;
    out.expired = row.granted && lapsed && !outdated;
    if (outdated) out.outdated = true;
  }
  return out;
}

/** Whether a `device_consent` row is a choice made under another revision than its device's latest receipt. */
function outdatedChoices(
  rows: readonly Record<string, unknown>[],
): (row: Record<string, unknown>) => boolean {
  const revisionOf = new Map<string, unknown>();
  for (const r of rows) if (r.kind === 'receipt') revisionOf.set(String(r.device_id), r.revision);
  return (r) => {
    const latest = revisionOf.get(String(r.device_id));
    return r.kind !== 'receipt' && latest !== undefined && r.revision !== latest;
  };
}

export async function exportSubject(
  deps: { db: Queryable; contacts?: ContactStore; now?: () => number },
  opts: { siteId: string; subjectId: string; contacts: 'plain' | 'masked' | 'none' },
): Promise<SubjectExport> {
  const { db } = deps;
  const { siteId, subjectId } = opts;
  const generatedAt = (deps.now ?? Date.now)();
  const { rows: columns } = await db.query<ColumnRow>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_name IN ('subject_id', 'device_id', 'site_id')`,
  );
  const tables = new Map<string, Set<string>>();
  for (const c of columns) {
    if (SKIPPED_TABLES.has(c.table_name)) continue;
    const set = tables.get(c.table_name) ?? new Set<string>();
    set.add(c.column_name);
    tables.set(c.table_name, set);
  }

  const devices = tables.has('identity_links')
    ? (
        await db.query<{ device_id: string }>(
          'SELECT device_id FROM identity_links WHERE site_id = $1 AND subject_id = $2 ORDER BY device_id',
          [siteId, subjectId],
        )
      ).rows.map((r) => r.device_id)
    : [];

  const records: SubjectExport['records'] = {};
  let receipts: SubjectExport['receipts'] = [];
  for (const [table, cols] of [...tables].sort(([a], [b]) => a.localeCompare(b))) {
    if (!cols.has('site_id')) continue;
    let rows: Array<Record<string, unknown>>;
    if (cols.has('subject_id')) {
      rows = (
        await db.query<Record<string, unknown>>(
          `SELECT * FROM ${quoteIdent(table)} WHERE site_id = $1 AND subject_id = $2`,
          [siteId, subjectId],
        )
      ).rows;
    } else if (cols.has('device_id') && devices.length > 0) {
      rows = (
        await db.query<Record<string, unknown>>(
          `SELECT * FROM ${quoteIdent(table)} WHERE site_id = $1 AND device_id = ANY($2::text[])`,
          [siteId, devices],
        )
      ).rows;
    } else continue;
    if (table === 'receipts') {
      receipts = rows
        .map((r) => {
          const entry = JSON.parse(String(r.entry)) as { receipt: Receipt };
          return {
            receiptId: String(r.receipt_id),
            receivedAt: Number(r.received_at),
            leafIndex: r.leaf_index === null || r.leaf_index === undefined ? null : Number(r.leaf_index),
            kid: String(r.kid),
            sig: String(r.sig),
            entry,
            effective: receiptEffect(entry.receipt, generatedAt, Number(r.received_at)),
          };
        })
        .sort((a, b) => a.receivedAt - b.receivedAt || a.receiptId.localeCompare(b.receiptId));
      continue;
    }
    const outdated = table === 'device_consent' ? outdatedChoices(rows) : () => false;
    if (rows.length > 0) records[table] = rows.map((row) => plainRow(row, generatedAt, outdated(row)));
  }

  let contacts: SubjectExport['contacts'] = [];
  if (opts.contacts !== 'none' && deps.contacts) {
    contacts = (await deps.contacts.listForSubject(siteId, subjectId, db)).map((c) => ({
      kind: c.kind,
      value: c.value === null ? null : opts.contacts === 'masked' ? maskContact(c.kind, c.value) : c.value,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      ...(c.error ? { error: c.error } : {}),
    }));
  }

  const { rows: accessRows } = await db.query<{ at: number | string; action: string; role: string }>(
    'SELECT at, action, role FROM access_log WHERE site_id = $1 AND subject_id = $2 ORDER BY seq',
    [siteId, subjectId],
  );

  return {
    format: SUBJECT_EXPORT_FORMAT,
    generatedAt,
    siteId,
    subjectId,
    contacts,
    devices,
    receipts,
    records,
    accessLog: accessRows.map((r) => ({ at: Number(r.at), action: r.action, role: r.role })),
  };
}
