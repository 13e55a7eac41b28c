-- Every choice lasts until its own entry in its receipt's `expiries` (docs/protocol.md, "Expired consent"), a
-- service too: the widget records one for every choice (its category's lifetime for a service). Rows stored
-- before took, for a service, the receipt's `expiresAt` (the earliest of all its choices: a service of a
-- category kept a year expired with one kept a day). They get their own entry, moved back as ingest moves it
-- when the device clock was ahead of the server's by more than 60 s (services/device-clock.ts). A receipt
-- without such an entry (made before the widget recorded them) keeps its `expiresAt`. Derived state only: the
-- receipts keep what was sent.
UPDATE device_consent SET
  expires_at = (r.entry::json -> 'receipt' -> 'expiries' ->> device_consent.item_id)::bigint
    - GREATEST(0, device_consent.collected_at - (device_consent.received_at + 60000))
FROM receipts r
WHERE r.receipt_id = device_consent.receipt_id
  AND device_consent.kind = 'service'
  AND (r.entry::json -> 'receipt' -> 'expiries' ->> device_consent.item_id) IS NOT NULL;
