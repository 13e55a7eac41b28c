-- Identity linking (issue 4): devices linked to pseudonymous subjects, token replay list, audit, pairing codes.
-- Raw user ids, pairing codes, jtis and IP addresses are never stored: only their keyed hashes (crypto/pseudonym.ts).

-- One subject per device and site (the primary key), many devices per subject.
CREATE TABLE identity_links (
  site_id     text   NOT NULL,
  device_id   text   NOT NULL,
  subject_id  text   NOT NULL,
  via         text   NOT NULL,             -- 'token' (site login) or 'pairing'
  browser     text   NOT NULL,             -- coarse family from the User-Agent, e.g. 'Chrome · Android'
  linked_at   bigint NOT NULL,             -- epoch ms
  first_seen  bigint NOT NULL,             -- earliest receipt of the device, or the link time
  last_seen   bigint NOT NULL,
  PRIMARY KEY (site_id, device_id)
);
CREATE INDEX identity_links_subject ON identity_links (site_id, subject_id);

-- Identity-token ids seen, until the token expires: shared by every instance, so a token is used once.
CREATE TABLE identity_jti (
  site_id    text   NOT NULL,
  jti_hash   text   NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (site_id, jti_hash)
);
CREATE INDEX identity_jti_expiry ON identity_jti (expires_at);

-- What happened to identities, and why: no raw user id, ever.
CREATE TABLE identity_audit (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         bigint NOT NULL,
  site_id    text   NOT NULL,
  device_id  text,
  subject_id text,
  action     text   NOT NULL,              -- identify | forget | pair-create | pair-claim | unlink
  outcome    text   NOT NULL,              -- ok | refused
  reason     text                          -- the problem code when refused
);
CREATE INDEX identity_audit_site ON identity_audit (site_id, at);

-- Pairing codes: stored as keyed hashes, valid 5 minutes, claimed once.
CREATE TABLE pairing_codes (
  code_hash  text   PRIMARY KEY,
  site_id    text   NOT NULL,
  device_id  text   NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  claimed_at bigint,
  claimed_by text
);
CREATE INDEX pairing_codes_expiry ON pairing_codes (expires_at);

-- Fixed-window counters of pairing attempts (per site + client, and global). Not the shared `rate_limits`:
-- its windows are pruned at the request limiter's own, shorter, window length.
CREATE UNLOGGED TABLE identity_rate (
  bucket       text    NOT NULL,
  window_start bigint  NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

-- A subject's history: its receipts, newest last (GET /v1/consent merges them for a linked device).
CREATE INDEX receipts_subject ON receipts (site_id, subject_id, received_at, receipt_id) WHERE subject_id IS NOT NULL;

-- A receipt of a linked device belongs to the device's subject from the moment it is stored, whoever inserts
-- it (ingest, the email service). The per-device advisory lock is the one linking takes: a receipt committed
-- while its device is being linked is either seen by the linker's UPDATE or sees the new link itself.
CREATE FUNCTION assenso_receipt_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.subject_id IS NULL AND NEW.device_id IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.site_id || ':' || NEW.device_id, 727003));
    SELECT l.subject_id INTO NEW.subject_id FROM identity_links l
      WHERE l.site_id = NEW.site_id AND l.device_id = NEW.device_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER receipts_subject BEFORE INSERT ON receipts
  FOR EACH ROW EXECUTE FUNCTION assenso_receipt_subject();
