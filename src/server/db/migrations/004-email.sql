-- Email links (issue 5): communication preferences per subject, preference-page sessions, erasure requests
-- and the webhook queue. No email address here: contact data lives encrypted in `contacts` (005).
-- Times are epoch ms from the server clock, as in `receipts`.

-- The current decision per subject × purpose × channel, derived from the subject's receipts in the same
-- transaction that stores them (services take a per-subject advisory lock). A granted row whose expires_at
-- has passed counts as denied everywhere.
CREATE TABLE email_preferences (
  site_id     text    NOT NULL,
  subject_id  text    NOT NULL,
  purpose     text    NOT NULL,
  channel     text    NOT NULL,
  granted     boolean NOT NULL,
  receipt_id  uuid    NOT NULL,
  method      text    NOT NULL,
  received_at bigint  NOT NULL,
  expires_at  bigint  NOT NULL,
  PRIMARY KEY (site_id, subject_id, purpose, channel)
);
-- Renewal campaigns: granted consents by expiry.
CREATE INDEX email_preferences_expiry ON email_preferences (site_id, expires_at) WHERE granted;

-- Preference-page sessions: the link token is exchanged for a random cookie; only its SHA-256 is kept.
CREATE TABLE email_sessions (
  id_hash     text   PRIMARY KEY,
  site_id     text   NOT NULL,
  subject_id  text   NOT NULL,
  csrf        text   NOT NULL,
  language    text,
  created_at  bigint NOT NULL,
  expires_at  bigint NOT NULL
);
CREATE INDEX email_sessions_expiry ON email_sessions (expires_at);
CREATE INDEX email_sessions_subject ON email_sessions (site_id, subject_id);

-- One-time erasure confirmations: the nonce inside an `erasure-confirm` token, usable once.
CREATE TABLE email_erasure_confirmations (
  nonce       text   PRIMARY KEY,
  site_id     text   NOT NULL,
  subject_id  text   NOT NULL,
  created_at  bigint NOT NULL,
  expires_at  bigint NOT NULL,
  used_at     bigint
);

-- Erasure requests: recorded when confirmed, carried out by `assenso erasure run` / the admin API.
CREATE TABLE email_erasure_requests (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site_id      text   NOT NULL,
  subject_id   text   NOT NULL,
  requested_at bigint NOT NULL,
  via          text   NOT NULL,               -- 'email-link' | 'api'
  status       text   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  completed_at bigint,
  result       jsonb
);
-- At most one open request per person.
CREATE UNIQUE INDEX email_erasure_open ON email_erasure_requests (site_id, subject_id) WHERE status = 'pending';

-- Webhook queue: one row per event and endpoint. Delivered in `seq` order per (endpoint, subject): a row is
-- claimed only when no earlier row of its subject is still pending; `lease_until` keeps one worker on it.
CREATE TABLE webhook_deliveries (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        uuid   NOT NULL,
  site_id         text   NOT NULL,
  endpoint        text   NOT NULL,
  subject_id      text   NOT NULL,
  payload         text   NOT NULL,
  created_at      bigint NOT NULL,
  state           text   NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease_until     bigint,
  last_status     integer,
  last_error      text,
  delivered_at    bigint,
  UNIQUE (event_id, endpoint)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint, subject_id, seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
