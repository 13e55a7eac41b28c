-- Receipts: the append-only store of every decision (contract: /work/team/schema-contract.md).
-- The app never UPDATEs a receipt, except the sequencer setting leaf_index once and the identity linker
-- setting subject_id (neither is part of the signed entry).
CREATE TABLE receipts (
  receipt_id   uuid PRIMARY KEY,
  site_id      text   NOT NULL,
  device_id    text,
  subject_id   text,
  method       text   NOT NULL,
  collected_at bigint NOT NULL,
  received_at  bigint NOT NULL,
  entry        text   NOT NULL,
  leaf_hash    text   NOT NULL,
  kid          text   NOT NULL,
  sig          text   NOT NULL,
  leaf_index   bigint,
  UNIQUE (site_id, leaf_index)
);
CREATE INDEX receipts_unsequenced ON receipts (site_id, received_at, receipt_id) WHERE leaf_index IS NULL;
CREATE INDEX receipts_device ON receipts (site_id, device_id, received_at);

-- The current decision per device, derived from receipts in the same transaction that stores them.
-- One row per choice: kind 'category' | 'service' | 'preference' (item_id 'purpose.channel'), plus one
-- 'receipt' row (item_id '') naming the device's latest receipt. A choice is replaced only by a receipt the
-- device made later (collected_at, then received_at): a receipt that arrives late never undoes a newer choice.
CREATE TABLE device_consent (
  site_id      text    NOT NULL,
  device_id    text    NOT NULL,
  kind         text    NOT NULL,
  item_id      text    NOT NULL,
  granted      boolean NOT NULL,
  receipt_id   uuid    NOT NULL,
  revision     text    NOT NULL,
  method       text    NOT NULL,
  collected_at bigint  NOT NULL,
  received_at  bigint  NOT NULL,
  expires_at   bigint  NOT NULL,
  PRIMARY KEY (site_id, device_id, kind, item_id)
);

-- Fixed-window request counters shared by every server instance. Losing them in a crash only resets the
-- windows, so PostgreSQL may skip the WAL for them (UNLOGGED).
CREATE UNLOGGED TABLE rate_limits (
  key          text   NOT NULL,
  window_start bigint NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
