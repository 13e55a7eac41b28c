/**
 * @module
 * The protection services, built once from the server's dependencies and shared by routes and commands:
 * admin keys, the access log, encrypted contact data and the per-person export.
 *
 * @example
 * const protection = createProtection({ db, keyring, now, contactKeys, pseudonymizer });
 * await protection.contacts?.put({ siteId, subjectId, kind: 'email', value });
 * await protection.exportForPerson(siteId, subjectId); // the preference page's "download my data"
 */
import type { Db } from '../db/db.ts';
import type { Keyring } from '../log/keys.ts';
import { type AccessLog, createAccessLog } from './access-log.ts';
import { type AdminKeys, createAdminKeys } from './admin-keys.ts';
import { type ContactCrypto, type ContactKeys, createContactCrypto } from './contact-crypto.ts';
import { type ContactStore, createContactStore, type KeyedHasher } from './contact-store.ts';
import { exportSubject, type SubjectExport } from './subject-export.ts';

export interface Protection {
  adminKeys: AdminKeys;
  accessLog: AccessLog;
  /** Null when no contact keys are configured: contact data can then not be stored. */
  contactKeys: ContactKeys | null;
  contactCrypto: ContactCrypto | null;
  contacts: ContactStore | null;
  /** Everything held about a person, with contact data as the caller's role may see it. */
  exportSubject(
    siteId: string,
    subjectId: string,
    contacts: 'plain' | 'masked' | 'none',
  ): Promise<SubjectExport>;
  /** The person's own copy ("download my data" on the preference page): contact data in clear. */
  exportForPerson(siteId: string, subjectId: string): Promise<SubjectExport>;
}

export function createProtection(deps: {
  db: Db;
  keyring: Keyring;
  now: () => number;
  contactKeys: ContactKeys | null;
  pseudonymizer: KeyedHasher;
}): Protection {
  const { db, now } = deps;
  const contactCrypto = deps.contactKeys ? createContactCrypto(deps.contactKeys) : null;
  const contacts = contactCrypto
    ? createContactStore({ db, crypto: contactCrypto, pseudonymizer: deps.pseudonymizer, now })
    : null;
  const exportFor = (siteId: string, subjectId: string, view: 'plain' | 'masked' | 'none') =>
    exportSubject({ db, contacts: contacts ?? undefined, now }, { siteId, subjectId, contacts: view });
  return {
    adminKeys: createAdminKeys({ db, now }),
    accessLog: createAccessLog({ db, keyring: deps.keyring, now }),
    contactKeys: deps.contactKeys,
    contactCrypto,
    contacts,
    exportSubject: exportFor,
    exportForPerson: (siteId, subjectId) => exportFor(siteId, subjectId, 'plain'),
  };
}
