/**
 * @module
 * Communication preferences: a person's decision per purpose × channel is a receipt like any other (methods
 * `email-link`, `unsubscribe`, `api`, `renewal`), stored through the ingest service (services/record-receipts.ts)
 * so that it is signed and becomes a leaf of the site's log. In the same transaction the subject's current
 * state (`email_preferences`) and the webhook events are written, under the subject's lock.
 * Each purpose has its own lifetime (`expiries`); a grant past its expiry counts as denied everywhere.
 */
import { randomUUID } from 'node:crypto';
import type { SignedReceipt } from '../../protocol/api.ts';
import type { Method } from '../../protocol/ids.ts';
import { noticeHash } from '../../protocol/notice.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../../protocol/version.ts';
import { findSite, type ServerConfig } from '../config.ts';
import type { Db } from '../db/db.ts';
import { HttpProblem } from '../errors.ts';
import type { Keyring } from '../log/keys.ts';
import { receiptExpiries } from '../services/consent-lifetime.ts';
import { createReceiptRecorder } from '../services/record-receipts.ts';
import { signedReceiptOf } from '../services/receipt-entry.ts';
import { newSubjectSalt, subjectCommitment } from '../services/subject-commitment.ts';
import { type EmailSite, localize, type PageLanguage, purposeChannels } from './config-schema.ts';
import {
  lastSubjectReceiptId,
  lockSubject,
  type PreferenceRow,
  setReceiptSubject,
  subjectPreferences,
  subjectReceiptRows,
  upsertPreferences,
} from './preferences-repo.ts';
import { preferencesPayload, queueWebhookEvent } from './webhook-events.ts';

const DAY_MS = 86_400_000;

/** Decisions: purpose → channel → granted. */
export type PreferenceChoices = Record<string, Record<string, boolean>>;

/** One purpose × channel as a person sees it. */
export interface PreferenceItem {
  purpose: string;
  channel: string;
  /** Effective state: false when never granted, denied, or expired. */
  granted: boolean;
  /** The stored decision (null: never decided). */
  decided: boolean | null;
  /** When the grant lapses (epoch ms); null when never decided. */
  expiresAt: number | null;
  /** A grant whose expiry has passed (so `granted` is false): "ask again", not "refused". */
  expired: boolean;
  decidedAt: number | null;
  method: string | null;
}

export type EmailMethod = Extract<Method, 'email-link' | 'unsubscribe' | 'api' | 'renewal'>;

export interface DecideInput {
  siteId: string;
  subjectId: string;
  method: EmailMethod;
  choices: PreferenceChoices;
  language: PageLanguage;
  /** The texts the person was shown (hosted page), part of the notice hash. */
  texts?: Record<string, string>;
}

export interface PreferencesServiceDeps {
  db: Db;
  config: ServerConfig;
  keyring: Keyring;
  now: () => number;
  newId?: () => string;
}

export interface PreferencesService {
  site(siteId: string): EmailSite;
  /** Every configured purpose × channel with the person's current state. */
  view(siteId: string, subjectId: string): Promise<PreferenceItem[]>;
  /** Records a decision; returns the signed receipt. Unknown purposes or channels: 422. */
  decide(input: DecideInput): Promise<SignedReceipt>;
  /** Denies every purpose (or the given ones) on every channel. */
  unsubscribe(input: Omit<DecideInput, 'choices'> & { purposes?: readonly string[] }): Promise<SignedReceipt>;
  /** Grants again, for a new lifetime, every purpose × channel the person had granted; null when there is none. */
  renew(input: Omit<DecideInput, 'choices' | 'method'>): Promise<SignedReceipt | null>;
  /** The person's receipts, oldest first, as signed copies (download my consent history). */
  history(siteId: string, subjectId: string): Promise<SignedReceipt[]>;
}

export function createPreferencesService(deps: PreferencesServiceDeps): PreferencesService {
  const newId = deps.newId ?? randomUUID;

  function site(siteId: string): EmailSite {
    const found = findSite(deps.config, siteId) as EmailSite | undefined;
    if (!found) throw new HttpProblem(404, 'unknown-site', `No site ${siteId} on this server`);
    return found;
  }

  function validate(s: EmailSite, choices: PreferenceChoices): void {
    const errors: string[] = [];
    for (const [purposeId, channels] of Object.entries(choices)) {
      const purpose = s.purposes.find((p) => p.id === purposeId);
      if (!purpose) {
        errors.push(`${purposeId}: unknown purpose`);
        continue;
      }
      const allowed = purposeChannels(s, purpose);
      for (const [channel, granted] of Object.entries(channels)) {
        if (!allowed.includes(channel)) errors.push(`${purposeId}.${channel}: not a channel of this purpose`);
        if (typeof granted !== 'boolean') errors.push(`${purposeId}.${channel}: must be true or false`);
      }
    }
    if (errors.length)
      throw new HttpProblem(422, 'invalid-request', 'Unknown purpose or channel', { errors });
    if (Object.values(choices).every((c) => Object.keys(c).length === 0))
      throw new HttpProblem(422, 'invalid-request', 'No decision to record');
  }

  async function buildReceipt(s: EmailSite, input: DecideInput, now: number, salt: string): Promise<Receipt> {
    const expiries: Record<string, number> = {};
    for (const purposeId of Object.keys(input.choices)) {
      const purpose = s.purposes.find((p) => p.id === purposeId)!;
      expiries[purposeId] = now + purpose.lifetimeDays * DAY_MS;
    }
    const lang = input.language;
    const hash = await noticeHash({
      siteId: s.id,
      revision: s.emailLinks.revision,
      language: lang,
      texts: input.texts ?? {},
      categories: [],
      purposes: s.purposes.map((p) => ({
        id: p.id,
        title: localize(p.title, lang),
        description: localize(p.description, lang),
        channels: purposeChannels(s, p),
        lifetimeDays: p.lifetimeDays,
      })),
    });
    return {
      schema: RECEIPT_SCHEMA,
      receiptId: newId(),
      siteId: s.id,
      deviceId: null,
      collectedAt: now,
      revision: s.emailLinks.revision,
      noticeHash: hash,
      language: lang,
      method: input.method,
      categories: {},
      services: {},
      preferences: input.choices as Receipt['preferences'],
      expiresAt: Math.min(...Object.values(expiries)),
      expiries,
      previousReceiptId: await lastSubjectReceiptId(deps.db, s.id, input.subjectId),
      // Who it is for, signed with it (the subject_id column alone is no proof: anyone with SQL access edits it).
      subjectCommitment: subjectCommitment(salt, input.subjectId),
    };
  }

  async function decide(input: DecideInput): Promise<SignedReceipt> {
    const s = site(input.siteId);
    validate(s, input.choices);
    const salt = newSubjectSalt();
    const receipt = await buildReceipt(s, input, deps.now(), salt);
    const recorder = createReceiptRecorder({
      db: deps.db,
      keyring: deps.keyring,
      config: deps.config,
      now: deps.now,
      hooks: [
        async (tx, stored) => {
          for (const { receipt: r, row } of stored) {
            await lockSubject(tx, s.id, input.subjectId);
            await setReceiptSubject(tx, r.receiptId, input.subjectId, salt);
            const rows: PreferenceRow[] = [];
            for (const [purpose, channels] of Object.entries(r.preferences ?? {}))
              for (const [channel, granted] of Object.entries(channels))
                rows.push({
                  purpose,
                  channel,
                  granted: granted as boolean,
                  receiptId: r.receiptId,
                  method: r.method,
                  receivedAt: row.receivedAt,
                  // Stored in email_preferences.expires_at (the renewal list reads it): bounded as every
                  // other consumer counts it (services/consent-lifetime.ts), though the receipts this service
                  // builds from the site's purposes are within the bound already.
                  expiresAt: receiptExpiries(r, row.receivedAt).of('preference', purpose),
                });
            await upsertPreferences(tx, s.id, input.subjectId, rows);
            const current = await subjectPreferences(tx, s.id, input.subjectId);
            await queueWebhookEvent(
              tx,
              s,
              {
                type: 'preferences.changed',
                subjectId: input.subjectId,
                preferences: preferencesPayload(current, row.receivedAt),
                receipt: signedReceiptOf({ ...row, subjectId: input.subjectId }),
              },
              row.receivedAt,
            );
          }
        },
      ],
    });
    const [result] = await recorder.record([receipt], { origin: {}, trusted: true });
    if (!result || result.outcome === 'rejected')
      throw new Error(
        `email receipt refused by ingest: ${JSON.stringify(result && 'problem' in result ? result.problem : null)}`,
      );
    return result.signed;
  }

  return {
    site,
    decide,

    async view(siteId, subjectId) {
      const s = site(siteId);
      const now = deps.now();
      const stored = new Map(
        (await subjectPreferences(deps.db, siteId, subjectId)).map((r) => [`${r.purpose}.${r.channel}`, r]),
      );
      return s.purposes.flatMap((p) =>
        purposeChannels(s, p).map((channel) => {
          const r = stored.get(`${p.id}.${channel}`);
          const expired = !!r && r.granted && r.expiresAt <= now;
          return {
            purpose: p.id,
            channel,
            granted: !!r && r.granted && !expired,
            decided: r ? r.granted : null,
            expiresAt: r ? r.expiresAt : null,
            expired,
            decidedAt: r ? r.receivedAt : null,
            method: r ? r.method : null,
          };
        }),
      );
    },

    async unsubscribe(input) {
      const s = site(input.siteId);
      const choices: PreferenceChoices = {};
      for (const p of s.purposes) {
        if (input.purposes && !input.purposes.includes(p.id)) continue;
        choices[p.id] = Object.fromEntries(purposeChannels(s, p).map((c) => [c, false]));
      }
      return decide({ ...input, choices });
    },

    async renew(input) {
      const current = await subjectPreferences(deps.db, input.siteId, input.subjectId);
      const choices: PreferenceChoices = {};
      const s = site(input.siteId);
      for (const r of current) {
        const purpose = s.purposes.find((p) => p.id === r.purpose);
        if (!r.granted || !purpose || !purposeChannels(s, purpose).includes(r.channel)) continue;
        choices[r.purpose] ??= {};
        choices[r.purpose]![r.channel] = true;
      }
      if (Object.keys(choices).length === 0) return null;
      return decide({ ...input, method: 'renewal', choices });
    },

    async history(siteId, subjectId) {
      return (await subjectReceiptRows(deps.db, siteId, subjectId)).map(signedReceiptOf);
    },
  };
}
