-- No choice counts longer than the longest lifetime after its receipt's time (docs/protocol.md, "Expired
-- consent"; services/consent-lifetime.ts): a category or service 395 days (13 months, the widget's own cap), a
-- communication preference 3650 days (the longest a purpose may be configured with), a device's `receipt` row
-- as long as the longest kind its receipt holds. The receipt's time is its collected_at believed up to
-- received_at + 60 s (services/device-clock.ts). Ingest now writes expires_at bounded so; rows stored before
-- are bounded here, since GET /v1/consent reads them as they are; only rows beyond the shorter bound are
-- touched (the widget never sends more, so in practice few or none). Derived state only: the receipts keep
-- what was sent.
UPDATE device_consent SET
  expires_at = LEAST(
    expires_at,
    LEAST(collected_at, received_at + 60000) + 86400000::bigint * CASE
      WHEN kind = 'preference' THEN 3650
      WHEN kind = 'receipt' AND EXISTS (
        SELECT 1 FROM receipts r
        WHERE r.receipt_id = device_consent.receipt_id
          AND (r.entry::json -> 'receipt' -> 'preferences') IS NOT NULL
      ) THEN 3650
      ELSE 395
    END
  )
WHERE expires_at > LEAST(collected_at, received_at + 60000) + 86400000::bigint * 395;
