-- The transparency log (docs/transparency.md): one RFC 9162 Merkle tree per site over the receipts'
-- leaf hashes, in leaf_index order.

-- Every perfect subtree of each site's tree: node (level, idx) covers leaves [idx * 2^level, (idx+1) * 2^level).
-- Level 0 holds the leaf hashes. Written once by the sequencer as leaves are appended (about 2 rows a leaf),
-- so any inclusion or consistency proof reads O(log n) rows. `verify` recomputes all of them.
CREATE TABLE log_nodes (
  site_id text     NOT NULL,
  level   smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
  idx     bigint   NOT NULL CHECK (idx >= 0),
  hash    bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (site_id, level, idx)
);

-- Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note): published by the sequencer whenever a
-- site's tree grew. The newest one (largest size, then newest) is the head of the log. `note` is complete
-- and self-contained: it can be copied out of the database and checked with the public key alone.
CREATE TABLE log_checkpoints (
  site_id    text   NOT NULL,
  tree_size  bigint NOT NULL CHECK (tree_size >= 0),
  root_hash  text   NOT NULL,          -- hex SHA-256 root (RFC 9162 MTH) of the first tree_size leaves
  created_at bigint NOT NULL,          -- server clock, epoch ms (also in the signed note)
  origin     text   NOT NULL,          -- the note's first line: the log's name
  kid        text   NOT NULL,          -- signing key id (GET /v1/keys)
  sig        text   NOT NULL,          -- base64url Ed25519 signature over the note text
  note       text   NOT NULL,          -- the signed note: text, blank line, signature line
  PRIMARY KEY (site_id, tree_size, created_at)
);

-- Append-only, enforced by the database too: a rejected UPDATE or DELETE is a bug or an attack. These
-- triggers stop accidents and casual edits; someone with DDL rights can disable them, which is what
-- `assenso verify` is for.
CREATE FUNCTION assenso_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'assenso: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
  FOR EACH ROW EXECUTE FUNCTION assenso_append_only();
CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION assenso_append_only();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION assenso_append_only();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION assenso_append_only();

-- Receipts: the only updates allowed are the sequencer setting leaf_index once and the identity linker
-- setting subject_id (neither is part of the signed entry). Deleting a receipt is refused.
CREATE FUNCTION assenso_receipts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'assenso: receipts are append-only (% refused)', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.receipt_id, NEW.site_id, NEW.device_id, NEW.method, NEW.collected_at, NEW.received_at, NEW.entry,
      NEW.leaf_hash, NEW.kid, NEW.sig)
     IS DISTINCT FROM
     (OLD.receipt_id, OLD.site_id, OLD.device_id, OLD.method, OLD.collected_at, OLD.received_at, OLD.entry,
      OLD.leaf_hash, OLD.kid, OLD.sig) THEN
    RAISE EXCEPTION 'assenso: receipt % is signed and cannot change', OLD.receipt_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.leaf_index IS NOT NULL AND NEW.leaf_index IS DISTINCT FROM OLD.leaf_index THEN
    RAISE EXCEPTION 'assenso: receipt % already has leaf index %', OLD.receipt_id, OLD.leaf_index
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
  FOR EACH ROW EXECUTE FUNCTION assenso_receipts_guard();
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
  FOR EACH STATEMENT EXECUTE FUNCTION assenso_receipts_guard();
