/**
 * Wire types of identity linking (docs/identity.md): POST /v1/identify, /v1/forget, /v1/pairing,
 * /v1/pairing/claim, GET /v1/devices, DELETE /v1/devices/:id. Types only: the widget imports them with
 * `import type`, the server validates bodies itself.
 */
import type { ConsentStateResponse } from './api.ts';

/** POST /v1/identify body. `token`: the site backend's identity JWT (HS256, kid, sub, aud, exp ≤ 10 min, jti). */
export interface IdentifyRequest {
  siteId: string;
  deviceId: string;
  token: string;
}

/** POST /v1/identify and /v1/pairing/claim answer: the subject and its current consent, to apply at once. */
export interface LinkedResponse {
  subjectId: string;
  consent: ConsentStateResponse;
}

/** POST /v1/forget answer. */
export interface ForgetResponse {
  /** False when the device was not linked (forget is idempotent). */
  unlinked: boolean;
}

/** POST /v1/pairing answer (201): a code for the other device to enter or scan. */
export interface PairingCodeResponse {
  /** `ABCD-EFGH`: 8 symbols of Crockford base32; case, dashes, O/0 and I/L/1 are forgiven when typed. */
  code: string;
  /** Epoch ms; a code lives 5 minutes and is used once. */
  expiresAt: number;
}

/** A linked device as listed to its person. */
export interface LinkedDevice {
  /** Opaque handle for DELETE /v1/devices/:id (never the device id). */
  id: string;
  /** Coarse family from the User-Agent, e.g. `Chrome · Android`. */
  browser: string;
  firstSeen: number;
  lastSeen: number;
  linkedAt: number;
  via: 'token' | 'pairing';
  /** The asking device. */
  current: boolean;
}

/** GET /v1/devices?site=&device= answer; `subjectId` null (and no devices) when the device is not linked. */
export interface DevicesResponse {
  subjectId: string | null;
  devices: LinkedDevice[];
}
