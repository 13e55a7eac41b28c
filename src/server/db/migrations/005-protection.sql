-- Protection of the consent store (issue 6): admin API keys, encrypted contact data, the tamper-evident
-- access log, key rotation progress and retention runs. Owned by the protection engineer.

-- Admin API keys. The token `ask_<id>_<secret>` is shown once; only SHA-256(secret) is kept.
CREATE TABLE admin_keys (
  key_id       text PRIMARY KEY,               -- 16 hex digits, public (appears in logs)
  secret_hash  text NOT NULL,                  -- hex SHA-256 of the 256-bit secret
  role         text NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
  site_id      text,                           -- null: every site
  label        text NOT NULL DEFAULT '',
  created_at   bigint NOT NULL,
  last_used_at bigint,
  revoked_at   bigint
);

-- Contact data that must stay readable (the address a renewal is sent to): envelope-encrypted, with the
-- key-encryption key's id beside the value so that rotation can find what is not under the current key.
CREATE TABLE contacts (
  site_id     text   NOT NULL,
  subject_id  text   NOT NULL,
  kind        text   NOT NULL,                 -- 'email', 'phone', …
  lookup_hash text   NOT NULL,                 -- keyed hash of the normalised value (pseudonymizer.hash)
  value_enc   text   NOT NULL,                 -- v1.<kid>.<wrappedDek>.<iv>.<ciphertext>.<tag>
  key_id      text   NOT NULL,                 -- the KEK id inside value_enc
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (site_id, subject_id, kind)
);
CREATE INDEX contacts_lookup ON contacts (site_id, kind, lookup_hash);
CREATE INDEX contacts_key ON contacts (key_id, site_id, subject_id, kind);

-- `assenso keys rotate`: one row per run; the cursor makes a crashed run resumable.
CREATE TABLE contact_key_rotations (
  id            bigserial PRIMARY KEY,
  target_kid    text   NOT NULL,
  retire_kid    text,
  started_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  finished_at   bigint,
  cursor_site   text,
  cursor_subject text,
  cursor_kind   text,
  batches       integer NOT NULL DEFAULT 0,
  rewrapped     integer NOT NULL DEFAULT 0,
  unreadable    integer NOT NULL DEFAULT 0
);

-- Access log: every admin read or export of a person's data. A hash chain (each hash covers the previous
-- one) with signed heads; designed to be pruned only at a signed head so that what remains still verifies.
CREATE TABLE access_log (
  seq        bigint PRIMARY KEY,               -- 1, 2, 3… without gaps
  at         bigint NOT NULL,                  -- server clock, epoch ms
  key_id     text   NOT NULL,
  role       text   NOT NULL,
  action     text   NOT NULL,
  site_id    text,
  subject_id text,
  ip         text,
  user_agent text,
  detail     jsonb  NOT NULL DEFAULT '{}',
  prev_hash  text   NOT NULL,
  hash       text   NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject_id, at);
CREATE INDEX access_log_at ON access_log (at);

CREATE TABLE access_log_heads (
  seq       bigint PRIMARY KEY,                -- the last entry the head covers
  hash      text   NOT NULL,
  signed_at bigint NOT NULL,
  kid       text   NOT NULL,
  sig       text   NOT NULL                    -- base64url Ed25519 over the head's canonical JSON
);

-- What each retention run did (by the schedule or `assenso retention run`).
CREATE TABLE retention_runs (
  id          bigserial PRIMARY KEY,
  trigger     text   NOT NULL,                 -- 'schedule' | 'cli'
  started_at  bigint NOT NULL,
  finished_at bigint,
  dry_run     boolean NOT NULL DEFAULT false,
  policy      jsonb  NOT NULL,
  results     jsonb  NOT NULL DEFAULT '{}',
  error       text
);
