-- The order of a device's decisions (docs/protocol.md, "Order and clocks"): the chain of previousReceiptId
-- first, the device clock only where no link decides, and that clock never ahead of the server's by more than
-- 60 s (services/device-clock.ts, CLOCK_TOLERANCE_MS).
--
-- previous_receipt_id: the previousReceiptId of the receipt a row comes from; the `receipt` row's tells which
--   stored receipt a late one is (the one the latest follows).
-- order_at: the row's place in its device's order, as `insertReceiptsWithChoices` (receipts-repo.ts) gives it:
--   collected_at bounded by received_at + 60 s, moved after the receipt it follows. A choice is replaced only
--   by one whose (order_at, received_at) is not smaller.
ALTER TABLE device_consent ADD COLUMN previous_receipt_id uuid;
ALTER TABLE device_consent ADD COLUMN order_at bigint;

-- Rows stored before: the bounded clock (their chain was not kept), and an expiry that a clock ahead of the
-- server's made longer shortened by as much (expires_at is derived state; the receipts keep what was sent).
UPDATE device_consent SET
  order_at = LEAST(collected_at, received_at + 60000),
  expires_at = expires_at - GREATEST(0, collected_at - (received_at + 60000)),
  previous_receipt_id = (SELECT (r.entry::json -> 'receipt' ->> 'previousReceiptId')::uuid
                         FROM receipts r WHERE r.receipt_id = device_consent.receipt_id);

ALTER TABLE device_consent ALTER COLUMN order_at SET NOT NULL;
