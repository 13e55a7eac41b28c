/**
 * Identity linking on the widget side (docs/identity.md): `identify(token)`, `forget()`, pairing codes, the
 * linked devices, and applying the consent another linked device gave.
 *
 * Loaded on demand (the script tag fetches it as `chunks/identity.js` only when the page calls identify, the
 * tag carries `data-identity`, or this browser was linked before), so the banner's bytes stay untouched.
 *
 * The rule for a fetched consent: the server merges every receipt of the person's devices, newest server time
 * per category (and service) winning. Before asking, this device delivers its pending receipts, so every
 * decision it made is part of that merge and the answer is the newest truth. It is not applied when a receipt
 * could not be delivered (offline), or when this device decided again while the answer was on its way: the
 * local decision is newer then, and stays. An answer for another policy revision is not applied either (the
 * visitor must be asked about the new policy).
 */
import { formatPairingCode, normalizePairingCode } from '../protocol/pairing-code.ts';
import type { ConsentStateResponse } from '../protocol/api.ts';
import type {
  DevicesResponse,
  ForgetResponse,
  LinkedResponse,
  PairingCodeResponse,
} from '../protocol/identity.ts';
import type { ProblemDetails } from '../protocol/problem.ts';
import { type Choices, type ConsentController, DECISION_FORMAT, type Decision } from './types.ts';

/** A refused identity call; `problem.type` names the reason (e.g. …/problems/token-expired). */
export class IdentityError extends Error {
  override name = 'IdentityError';
  constructor(
    readonly status: number,
    readonly problem: ProblemDetails | null,
  ) {
    super(problem?.title ?? `HTTP ${status}`);
  }
}

export interface IdentityApi {
  /** Whether the site has a receipt server (`endpoint`): every call below needs one. */
  readonly enabled: boolean;
  /** Links this browser to the person the site's backend vouches for; applies their consent. */
  identify(token: string): Promise<LinkedResponse>;
  /** Unlinks this browser (logout, shared computer), on the server and here. Its own decision stays. */
  forget(): Promise<ForgetResponse>;
  /** Fetches the person's consent and applies it when newer; true when something was applied. */
  sync(): Promise<boolean>;
  /** A code (and its expiry) another device can enter or scan within 5 minutes. */
  pairingCode(): Promise<PairingCodeResponse>;
  /** The URL to put in the QR code: this page with `#assenso-pair=<code>`. */
  pairingUrl(code: string): string;
  /**
   * Links this browser with the one that showed `code`, and applies the person's consent (with
   * `{ apply: false }` it does not: the preference center applies it when it closes, by `sync()`).
   */
  claim(code: string, options?: { apply?: boolean }): Promise<LinkedResponse>;
  devices(): Promise<DevicesResponse>;
  /** Unlinks one of the person's devices (by the `id` from devices()). */
  unlink(id: string): Promise<void>;
  /**
   * A pairing link opened on this page (`#assenso-pair=CODE`): opens the preference center, whose "Your
   * devices" asks the visitor first, and claims `code` only when they choose Link. Resolves true once linked,
   * false when they cancel, close the preference center, or the claim is refused; never rejects. Nothing is
   * asked (false, one warning) for what cannot be a code.
   */
  askToClaim(code: string): Promise<boolean>;
  /** The question waiting for the visitor's answer on this page ("Your devices" shows it), or null. */
  question(): LinkQuestion | null;
  /**
   * The visitor's answer to `question()`: Link (true) carries the link out, and resolves true when linked
   * (rejects as claim() does when the server refused a code); Cancel (false) links nothing and asks the
   * server nothing. Either way the question is gone.
   */
  answer(link: boolean): Promise<boolean>;
}

/**
 * What a link opened on the page would link, asked in "Your devices" before anything is: this browser with
 * the device that showed `code` (`pair`), or with the person an email link was sent to (`email`).
 */
export interface LinkQuestion {
  kind: 'pair' | 'email';
  /** The pairing code as shown on the other device (`ABCD-EFGH`). */
  code?: string;
}

interface Asked extends LinkQuestion {
  link: () => Promise<boolean>;
  done: (linked: boolean) => void;
}

/**
 * The question of each controller's page. Per controller, not per identity API: the script tag asks through
 * its `assenso.identity()`, an ES module page through whatever API it lends the preference center, and an email
 * link through one of its own; all of them see the one question.
 */
const asked = new WeakMap<ConsentController, Asked>();

/**
 * Asks the visitor (see IdentityApi.askToClaim) before `link` runs, replacing a question not yet answered (which
 * counts as Cancel). `link` resolves whether it linked. The preference center is opened by the caller.
 */
export function askToLink(
  c: ConsentController,
  question: LinkQuestion,
  link: () => Promise<boolean>,
): Promise<boolean> {
  asked.get(c)?.done(false);
  return new Promise((done) => {
    const entry: Asked = {
      ...question,
      link,
      done: (linked) => {
        if (asked.get(c) === entry) asked.delete(c);
        done(linked);
      },
    };
    asked.set(c, entry);
  });
}

export interface IdentityDeps {
  fetch?: typeof fetch;
  /** Where the "this browser is linked" flag lives (default localStorage; absent: in memory). */
  flags?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** The page URL the pairing link points at (default location.href). */
  href?: () => string;
}

/** The fragment a pairing URL carries: `#assenso-pair=ABCD-EFGH`. */
export const PAIR_FRAGMENT = 'assenso-pair=';

/** localStorage key of the "linked" flag, read synchronously by the embed to decide whether to load this module. */
export const linkedFlag = (siteId: string) => `assenso:linked:${siteId}`;

/** Whether this browser was linked on this site (fails soft to false). */
export function wasLinked(siteId: string, flags?: IdentityDeps['flags']): boolean {
  try {
    return (flags ?? globalThis.localStorage)?.getItem(linkedFlag(siteId)) === '1';
  } catch {
    return false;
  }
}

export function createIdentity(c: ConsentController, deps: IdentityDeps = {}): IdentityApi {
  const cfg = c.config;
  const doFetch = deps.fetch ?? globalThis.fetch.bind(globalThis);
  const memory = new Map<string, string>();
  const flags: NonNullable<IdentityDeps['flags']> = deps.flags ??
    safeStorage() ?? {
      getItem: (k) => memory.get(k) ?? null,
      setItem: (k, v) => void memory.set(k, v),
      removeItem: (k) => void memory.delete(k),
    };
  const setLinked = (on: boolean) => {
    try {
      if (on) flags.setItem(linkedFlag(cfg.siteId), '1');
      else flags.removeItem(linkedFlag(cfg.siteId));
    } catch {
      // Storage full or blocked: the next load just does not sync by itself.
    }
  };

  async function call<T>(method: string, path: string, body?: Record<string, unknown>): Promise<T> {
    if (!cfg.endpoint) throw new IdentityError(0, null);
    const res = await doFetch(new URL(path, `${cfg.endpoint.replace(/\/$/, '')}/`).href, {
      method,
      credentials: 'omit',
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) throw new IdentityError(res.status, json as ProblemDetails | null);
    return json as T;
  }
  const device = () => c.deviceId();
  const query = async () => `site=${encodeURIComponent(cfg.siteId)}&device=${await device()}`;

  /**
   * Applies the person's consent when it is newer than what this device knows (see the module comment):
   * `basis` as `ask` gives it.
   */
  async function apply(state: ConsentStateResponse, basis: string | null | false): Promise<boolean> {
    const r = state.decision;
    if (!state.subjectId) setLinked(false);
    const local = c.getState().decision;
    if (basis === false || !r || r.revision !== cfg.revision || local?.receiptId === r.receiptId)
      return false;
    // The answer's own keys only (a polluted Object.prototype must not answer for it). (decision.ts's own `bare`,
    // imported, would be split into a chunk of its own, shared with the delivery chunk: one request more.)
    const bare = <T>(o: Record<string, T> = {}): Record<string, T> => Object.assign(Object.create(null), o);
    const categories: Choices = bare();
    const services: Choices = bare();
    const expiries: Record<string, number> = bare();
    const given = { categories: bare(r.categories), services: bare(r.services), expiries: bare(r.expiries) };
    for (const cat of cfg.categories) {
      // What the answer leaves out was not answered under this revision (docs/protocol.md): it stays
      // unanswered, so the banner asks; false here would adopt a refusal nobody made, with no banner.
      const answered = cat.required || cat.id in given.categories;
      if (answered) {
        categories[cat.id] = cat.required || given.categories[cat.id] === true;
        if (!cat.required) expiries[cat.id] = given.expiries[cat.id] ?? r.expiresAt;
      }
      for (const s of cat.services)
        if (cat.required) services[s.id] = true;
        else if (typeof given.services[s.id] === 'boolean') services[s.id] = given.services[s.id]!;
        else if (answered) services[s.id] = categories[cat.id]!;
    }
    const d: Decision = {
      format: DECISION_FORMAT,
      revision: r.revision,
      decidedAt: r.decidedAt,
      expiresAt: r.expiresAt,
      method: 'sync',
      categories,
      services,
      expiries,
      receiptId: r.receiptId,
      deviceId: await device(),
      gpc: local?.gpc ?? false,
    };
    // Refused when this device decided since it asked, or has a decision the server has not received.
    return c.adopt(d, basis);
  }

  /** The receipt id of this device's decision now: what an answer asked for now is based on. */
  const basis = () => c.getState().decision?.receiptId ?? null;
  /**
   * A request whose answer carries the person's consent. This device's receipts are delivered first: the
   * answer can be the newest truth only if the server has them all. `at` is the decision the answer is based
   * on, or false when a receipt could not be delivered (offline): this device's decision is then newer.
   */
  const ask = async <T>(method: string, path: string, body?: Record<string, unknown>) => {
    // The decision as the request leaves: one made after this is newer than the answer (adopt refuses it).
    const now = basis();
    await c.flush().catch(() => {});
    const at: string | null | false = (await c.receipts()).pending.length ? false : now;
    return { res: await call<T>(method, path, body), at };
  };

  const linked = async ({ res, at }: { res: LinkedResponse; at: string | null | false }, adopt = true) => {
    setLinked(true);
    if (adopt) await apply(res.consent, at);
    return res;
  };

  const api: IdentityApi = {
    enabled: !!cfg.endpoint,
    async identify(token) {
      if (typeof token !== 'string' || !token)
        throw new TypeError('identify(token): token must be a JWT string');
      return linked(
        await ask<LinkedResponse>('POST', 'v1/identify', {
          siteId: cfg.siteId,
          deviceId: await device(),
          token,
        }),
      );
    },
    async forget() {
      const res = await call<ForgetResponse>('POST', 'v1/forget', {
        siteId: cfg.siteId,
        deviceId: await device(),
      });
      setLinked(false);
      return res;
    },
    async sync() {
      const { res, at } = await ask<ConsentStateResponse>('GET', `v1/consent?${await query()}`);
      return apply(res, at);
    },
    async pairingCode() {
      const res = await call<PairingCodeResponse>('POST', 'v1/pairing', {
        siteId: cfg.siteId,
        deviceId: await device(),
      });
      // The other browser may use the code after this page is gone: the next load asks the server (sync),
      // whose answer clears the flag again when the code was not used.
      setLinked(true);
      return res;
    },
    pairingUrl(code) {
      const url = new URL(deps.href?.() ?? globalThis.location.href);
      url.hash = `${PAIR_FRAGMENT}${encodeURIComponent(code)}`;
      return url.href;
    },
    async claim(code, options) {
      return linked(
        await ask<LinkedResponse>('POST', 'v1/pairing/claim', {
          siteId: cfg.siteId,
          deviceId: await device(),
          code,
        }),
        options?.apply !== false,
      );
    },
    async devices() {
      const res = await call<DevicesResponse>('GET', `v1/devices?${await query()}`);
      // Linked or not, as the server says: a browser that showed a pairing code learns here that it was used.
      setLinked(res.subjectId != null);
      return res;
    },
    async unlink(id) {
      await call<void>('DELETE', `v1/devices/${encodeURIComponent(id)}?${await query()}`);
    },
    askToClaim(typed) {
      // Only a code is ever shown in the question: a link's fragment is anyone's text.
      const read = normalizePairingCode(String(typed));
      const code = read && formatPairingCode(read);
      if (!code) {
        console.warn('[assenso] a pairing link without a valid code was ignored');
        return Promise.resolve(false);
      }
      const answered = askToLink(c, { kind: 'pair', code }, async () => !!(await api.claim(code)));
      c.open('preferences');
      return answered;
    },
    question() {
      const q = asked.get(c);
      return q ? { kind: q.kind, ...(q.code ? { code: q.code } : {}) } : null;
    },
    async answer(link) {
      const q = asked.get(c);
      if (!q) return false;
      // Gone before the request leaves: a second click cannot link twice.
      asked.delete(c);
      let linked = false;
      try {
        if (link) linked = await q.link();
      } finally {
        q.done(linked);
      }
      return linked;
    },
  };
  return api;
}

function safeStorage(): Storage | undefined {
  try {
    const s = globalThis.localStorage;
    s?.getItem('assenso:probe');
    return s ?? undefined;
  } catch {
    return undefined;
  }
}
