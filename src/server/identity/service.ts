/**
 * @module
 * Identity linking: devices → pseudonymous subjects, by a site's signed token or by a pairing code between
 * two devices; the subject's consent; the subject's devices. Decides; the repos speak SQL.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Pseudonymizer } from '../crypto/pseudonym.ts';
import { randomSubjectId } from '../crypto/pseudonym.ts';
import type { Db, Queryable } from '../db/db.ts';
import { DeviceNotFound, IdentityRateLimited, PairingCodeError } from './errors.ts';
import { type AuditEntry, hitRate, pruneExpired, rememberJti, writeAudit } from './guard-repo.ts';
import {
  attachReceipts,
  deleteLink,
  findLink,
  type LinkRow,
  listSubjectLinks,
  lockDevices,
  touchLink,
  upsertLink,
} from './links-repo.ts';
import { formatPairingCode, newPairingCode, normalizePairingCode } from './pairing-code.ts';
import { claimPairingCode, insertPairingCode } from './pairing-repo.ts';
import { subjectConsent } from './subject-consent.ts';
import { browserFamily } from './browser.ts';
import { CLOCK_SKEW_SECONDS, IdentityTokenError, verifyIdentityToken } from './token.ts';

/** A pairing code lives 5 minutes. */
export const PAIRING_TTL_MS = 5 * 60_000;

export interface IdentityLimits {
  /** Window of the pairing rate limits, ms. */
  windowMs: number;
  /** Codes a client IP may ask for, per site and window. */
  codesPerIp: number;
  /** Claims (right or wrong) a client IP may make, per site and window. */
  claimsPerIp: number;
  /** Claims across all sites and clients per window: caps a distributed guessing attack. */
  claimsGlobal: number;
}

/**
 * Defaults: with ≤ 600 claims per 5 minutes server-wide, a guesser tries ~1.7·10^5 codes a day against a space
 * of 1.1·10^12: each live code has a ~1.6·10^-7 chance per day of being hit.
 */
export const DEFAULT_IDENTITY_LIMITS: IdentityLimits = {
  windowMs: 5 * 60_000,
  codesPerIp: 20,
  claimsPerIp: 10,
  claimsGlobal: 600,
};

export interface IdentityServiceDeps {
  db: Db;
  now: () => number;
  pseudonymizer: Pseudonymizer;
  /** The site's identity secrets (`kid` → secret), undefined when the site has none. */
  identitySecrets: (siteId: string) => Readonly<Record<string, string>> | undefined;
  limits?: Partial<IdentityLimits>;
  /** Pairing code generator, for tests. */
  newCode?: () => string;
}

export interface DeviceInfo {
  /** Opaque handle for DELETE /v1/devices/:id (never the device id itself: that is the device's credential). */
  id: string;
  browser: string;
  firstSeen: number;
  lastSeen: number;
  linkedAt: number;
  via: 'token' | 'pairing';
  /** Whether this is the asking device. */
  current: boolean;
}

export interface IdentityService {
  identify(req: { siteId: string; deviceId: string; token: string; userAgent?: string }): Promise<{
    subjectId: string;
    /** The device was linked to another subject before. */
    moved: boolean;
    /** Earlier receipts of the device attached to the subject's history. */
    attached: number;
  }>;
  forget(req: { siteId: string; deviceId: string }): Promise<{ unlinked: boolean }>;
  /** The subject's consent for a linked device; null when the device is not linked. */
  consentFor(siteId: string, deviceId: string): Promise<ConsentStateResponse | null>;
  createPairing(req: {
    siteId: string;
    deviceId: string;
    ip: string;
  }): Promise<{ code: string; expiresAt: number }>;
  claimPairing(req: {
    siteId: string;
    deviceId: string;
    code: string;
    ip: string;
    userAgent?: string;
  }): Promise<{
    subjectId: string;
  }>;
  listDevices(siteId: string, deviceId: string): Promise<{ subjectId: string | null; devices: DeviceInfo[] }>;
  unlinkDevice(req: { siteId: string; deviceId: string; handle: string }): Promise<void>;
  /** Deletes expired replay entries, codes and rate windows (also done on the way, at most once a minute). */
  prune(): Promise<number>;
}

export function createIdentityService(deps: IdentityServiceDeps): IdentityService {
  const { db, now, pseudonymizer: p } = deps;
  const limits = { ...DEFAULT_IDENTITY_LIMITS, ...deps.limits };
  const makeCode = deps.newCode ?? (() => newPairingCode());
  let lastPrune = 0;

  const audit = (q: Queryable, e: Omit<AuditEntry, 'at'>) => writeAudit(q, { at: now(), ...e });
  const refused = (siteId: string, deviceId: string, action: AuditEntry['action'], reason: string) =>
    audit(db, { siteId, deviceId, subjectId: null, action, outcome: 'refused', reason });
  const handleOf = (siteId: string, deviceId: string) =>
    p.hash('device-handle', `${siteId}:${deviceId}`).slice(0, 32);

  async function pruneSometimes() {
    if (now() - lastPrune < 60_000) return;
    lastPrune = now();
    await service.prune();
  }

  async function limit(bucket: string) {
    const t = now();
    const windowStart = t - (t % limits.windowMs);
    const hits = await hitRate(db, bucket, windowStart);
    return { hits, retryAfter: Math.ceil((windowStart + limits.windowMs - t) / 1000) };
  }

  /** Links the devices to the subject (caller holds their locks) and attaches their earlier receipts. */
  async function linkAll(
    tx: Queryable,
    siteId: string,
    subjectId: string,
    devices: { deviceId: string; browser: string }[],
    via: LinkRow['via'],
  ) {
    let attached = 0;
    for (const d of devices) {
      await upsertLink(tx, {
        siteId,
        deviceId: d.deviceId,
        subjectId,
        via,
        browser: d.browser,
        linkedAt: now(),
        now: now(),
      });
      attached += await attachReceipts(tx, siteId, d.deviceId, subjectId);
    }
    return attached;
  }

  const service: IdentityService = {
    async identify({ siteId, deviceId, token, userAgent }) {
      await pruneSometimes();
      let claims: Awaited<ReturnType<typeof verifyIdentityToken>>;
      try {
        claims = await verifyIdentityToken(token, siteId, deps.identitySecrets(siteId), now());
      } catch (err) {
        if (err instanceof IdentityTokenError) {
          await refused(siteId, deviceId, 'identify', err.reason);
        }
        throw err;
      }
      const subjectId = p.subjectId(siteId, claims.sub);
      const result = await db.transaction(async (tx) => {
        const expiresAt = (claims.exp + CLOCK_SKEW_SECONDS) * 1000;
        if (!(await rememberJti(tx, siteId, p.hash('jti', claims.jti), expiresAt))) return null;
        await lockDevices(tx, siteId, [deviceId]);
        const before = await findLink(tx, siteId, deviceId);
        const attached = await linkAll(
          tx,
          siteId,
          subjectId,
          [{ deviceId, browser: browserFamily(userAgent) }],
          'token',
        );
        const moved = before !== undefined && before.subjectId !== subjectId;
        await audit(tx, {
          siteId,
          deviceId,
          subjectId,
          action: 'identify',
          outcome: 'ok',
          reason: moved ? 'moved' : null,
        });
        return { subjectId, moved, attached };
      });
      if (result) return result;
      await refused(siteId, deviceId, 'identify', 'token-replayed');
      throw new IdentityTokenError('token-replayed', 'jti already used');
    },

    async forget({ siteId, deviceId }) {
      return db.transaction(async (tx) => {
        await lockDevices(tx, siteId, [deviceId]);
        const removed = await deleteLink(tx, siteId, deviceId);
        await audit(tx, {
          siteId,
          deviceId,
          subjectId: removed?.subjectId ?? null,
          action: 'forget',
          outcome: 'ok',
          reason: removed ? null : 'not-linked',
        });
        return { unlinked: removed !== undefined };
      });
    },

    consentFor: (siteId, deviceId) => subjectConsent(db, siteId, deviceId, now()),

    async createPairing({ siteId, deviceId, ip }) {
      await pruneSometimes();
      const { hits, retryAfter } = await limit(`pair-code:${siteId}:${p.hash('ip', ip)}`);
      if (hits > limits.codesPerIp) throw new IdentityRateLimited(retryAfter);
      const createdAt = now();
      const expiresAt = createdAt + PAIRING_TTL_MS;
      // A collision with a live code is astronomically rare; try again rather than hand out a shared code.
      for (let attempt = 0; attempt < 3; attempt++) {
        const code = makeCode();
        const codeHash = p.hash('pairing', `${siteId}:${code}`);
        if (await insertPairingCode(db, { codeHash, siteId, deviceId, createdAt, expiresAt })) {
          await audit(db, {
            siteId,
            deviceId,
            subjectId: null,
            action: 'pair-create',
            outcome: 'ok',
            reason: null,
          });
          return { code: formatPairingCode(code), expiresAt };
        }
      }
      throw new Error('could not allot a unique pairing code');
    },

    async claimPairing({ siteId, deviceId, code, ip, userAgent }) {
      await pruneSometimes();
      const perIp = await limit(`pair-claim:${siteId}:${p.hash('ip', ip)}`);
      const global = await limit('pair-claim:*');
      if (perIp.hits > limits.claimsPerIp || global.hits > limits.claimsGlobal) {
        await refused(siteId, deviceId, 'pair-claim', 'rate-limited');
        throw new IdentityRateLimited(Math.max(perIp.retryAfter, global.retryAfter));
      }
      const canonical = normalizePairingCode(code);
      const result =
        canonical === undefined
          ? undefined
          : await db.transaction(async (tx) => {
              const codeHash = p.hash('pairing', `${siteId}:${canonical}`);
              const issuer = await claimPairingCode(tx, codeHash, siteId, deviceId, now());
              if (issuer === undefined) return undefined;
              await lockDevices(tx, siteId, [issuer, deviceId]);
              const issuerLink = await findLink(tx, siteId, issuer);
              const claimerLink = await findLink(tx, siteId, deviceId);
              // The claimer joins the issuer's subject; an unlinked issuer joins the claimer's; else a new one.
              const subjectId = issuerLink?.subjectId ?? claimerLink?.subjectId ?? randomSubjectId();
              const devices = [{ deviceId, browser: browserFamily(userAgent) }];
              if (!issuerLink || issuerLink.subjectId !== subjectId) {
                devices.push({ deviceId: issuer, browser: issuerLink?.browser ?? 'Browser' });
              }
              await linkAll(tx, siteId, subjectId, devices, 'pairing');
              await audit(tx, {
                siteId,
                deviceId,
                subjectId,
                action: 'pair-claim',
                outcome: 'ok',
                reason: null,
              });
              return { subjectId };
            });
      if (result) return result;
      await refused(siteId, deviceId, 'pair-claim', 'pairing-code-invalid');
      throw new PairingCodeError('pairing code unknown, expired, used or your own');
    },

    async listDevices(siteId, deviceId) {
      const link = await findLink(db, siteId, deviceId);
      if (!link) return { subjectId: null, devices: [] };
      await touchLink(db, siteId, deviceId, now());
      const rows = await listSubjectLinks(db, siteId, link.subjectId);
      return {
        subjectId: link.subjectId,
        devices: rows.map((r) => ({
          id: handleOf(siteId, r.deviceId),
          browser: r.browser,
          firstSeen: Number(r.firstSeen),
          lastSeen: r.deviceId === deviceId ? Math.max(Number(r.lastSeen), now()) : Number(r.lastSeen),
          linkedAt: Number(r.linkedAt),
          via: r.via,
          current: r.deviceId === deviceId,
        })),
      };
    },

    async unlinkDevice({ siteId, deviceId, handle }) {
      await db.transaction(async (tx) => {
        const link = await findLink(tx, siteId, deviceId);
        const target = link
          ? (await listSubjectLinks(tx, siteId, link.subjectId)).find(
              (r) => handleOf(siteId, r.deviceId) === handle,
            )
          : undefined;
        if (!link || !target) throw new DeviceNotFound("no such device among this subject's devices");
        await lockDevices(tx, siteId, [target.deviceId]);
        await deleteLink(tx, siteId, target.deviceId);
        await audit(tx, {
          siteId,
          deviceId: target.deviceId,
          subjectId: link.subjectId,
          action: 'unlink',
          outcome: 'ok',
          reason: target.deviceId === deviceId ? null : 'by-other-device',
        });
      });
    },

    prune: () => pruneExpired(db, now(), now() - 2 * limits.windowMs),
  };
  return service;
}
