/**
 * @module
 * A stored receipt in the shape of the Kantara Initiative Consent Receipt Specification v1.1 (the record
 * structure ISO/IEC TS 27560 builds on), for auditors and tools that read that format.
 *
 * Mapping: each granted category becomes a service with one purpose (Kantara receipts list what was
 * consented to); the refused ones, the per-service choices, and the signed original (entry, signature, leaf
 * index) travel under `assenso`, so nothing of the proof is lost. `consentTimestamp` is the server's receipt
 * time (the time that counts), in seconds since the epoch as v1.1 prescribes.
 *
 * The receipt records what was consented to then; whether that still holds is `assenso.effective` (given
 * `asOf`): a grant past its expiry counts as denied (services/consent-expiry.ts).
 */
import type { SignedReceipt } from '../../protocol/api.ts';
import { type ReceiptEffect, receiptEffect } from '../services/consent-expiry.ts';

export const KANTARA_VERSION = 'KI-CR-v1.1.0';

/** Kantara v1.1 `piiControllers[]` entry. */
export interface KantaraController {
  piiController: string;
  onBehalf?: boolean;
  contact: string;
  address: string | Record<string, string>;
  email: string;
  phone: string;
  piiControllerUrl?: string;
}

export interface KantaraPurpose {
  purpose: string;
  purposeCategory: string[];
  consentType: string;
  piiCategory: string[];
  primaryPurpose?: boolean;
  termination: string;
  thirdPartyDisclosure: boolean;
  thirdPartyName?: string;
}

export interface KantaraReceipt {
  version: typeof KANTARA_VERSION;
  jurisdiction: string;
  consentTimestamp: number;
  collectionMethod: string;
  consentReceiptID: string;
  publicKey?: string;
  language?: string;
  piiPrincipalId: string;
  piiControllers: KantaraController[];
  policyUrl: string;
  services: { service: string; purposes: KantaraPurpose[] }[];
  sensitive: boolean;
  spiCat: string[];
  /** Not part of Kantara v1.1: what a v1.1 reader may ignore, and what the proof needs. */
  assenso: {
    siteId: string;
    revision: string;
    noticeHash: string;
    collectedAt: number;
    receivedAt: number;
    expiresAt: number;
    deniedCategories: string[];
    services: Record<string, boolean>;
    previousReceiptId: string | null;
    leafIndex?: number;
    leafHash: string;
    signature: SignedReceipt['signature'];
    /** The receipt's state at `asOf` (expired grants denied), when the export gave a time. */
    effective?: ReceiptEffect;
  };
}

export interface KantaraOptions {
  /** The data controller(s) (v1.1 `piiControllers`); default one named after the site, contact details empty. */
  controllers?: KantaraController[];
  /** Legal jurisdiction (v1.1 `jurisdiction`), default `EU`. */
  jurisdiction?: string;
  /** The privacy policy the notice linked to (v1.1 `policyUrl`). */
  policyUrl?: string;
  /** Base64url raw Ed25519 key that signed the receipt (v1.1 `publicKey`). */
  publicKey?: string;
  /** Adds `assenso.effective`: what the receipt still grants at this time (epoch ms). */
  asOf?: number;
}

const METHOD_TEXT: Record<string, string> = {
  'accept-all': 'web consent banner: accept all',
  'reject-all': 'web consent banner: reject all',
  preferences: 'web preference center: individual choices',
  close: 'web consent banner: closed without choosing (essential only)',
  gpc: 'Global Privacy Control browser signal',
  service: 'web: consent to one service in place',
  'email-link': 'email link',
  unsubscribe: 'email unsubscribe link',
  api: 'site backend (API)',
  renewal: 'web consent banner: renewal',
  sync: 'synchronised from another device of the same person',
};

/** Explicit unless the "decision" was a signal or the absence of a choice. */
const consentTypeOf = (method: string) => (method === 'gpc' || method === 'close' ? 'IMPLICIT' : 'EXPLICIT');

/** Renders one signed receipt as a Kantara v1.1 consent receipt. */
export function kantaraReceipt(signed: SignedReceipt, options: KantaraOptions = {}): KantaraReceipt {
  const r = signed.receipt;
  const termination = `Until ${new Date(r.expiresAt).toISOString()}, or until withdrawn in the site's privacy settings`;
  const categories = Object.entries(r.categories).sort(([a], [b]) => a.localeCompare(b));
  const out: KantaraReceipt = {
    version: KANTARA_VERSION,
    jurisdiction: options.jurisdiction ?? 'EU',
    consentTimestamp: Math.floor(signed.receivedAt / 1000),
    collectionMethod: METHOD_TEXT[r.method] ?? r.method,
    consentReceiptID: r.receiptId,
    language: r.language,
    piiPrincipalId: r.deviceId ? `device:${r.deviceId}` : `receipt:${r.receiptId}`,
    piiControllers: options.controllers ?? [
      { piiController: r.siteId, contact: '', address: '', email: '', phone: '' },
    ],
    policyUrl: options.policyUrl ?? '',
    services: categories
      .filter(([, granted]) => granted)
      .map(([category]) => ({
        service: category,
        purposes: [
          {
            purpose: category,
            purposeCategory: [category],
            consentType: consentTypeOf(r.method),
            piiCategory: [],
            termination,
            thirdPartyDisclosure: false,
          },
        ],
      })),
    sensitive: false,
    spiCat: [],
    assenso: {
      siteId: r.siteId,
      revision: r.revision,
      noticeHash: r.noticeHash,
      collectedAt: r.collectedAt,
      receivedAt: signed.receivedAt,
      expiresAt: r.expiresAt,
      deniedCategories: categories.filter(([, granted]) => !granted).map(([category]) => category),
      services: r.services,
      previousReceiptId: r.previousReceiptId,
      leafHash: signed.leafHash,
      signature: signed.signature,
    },
  };
  if (options.publicKey) out.publicKey = options.publicKey;
  if (signed.leafIndex !== undefined) out.assenso.leafIndex = signed.leafIndex;
  if (options.asOf !== undefined) out.assenso.effective = receiptEffect(r, options.asOf, signed.receivedAt);
  return out;
}
