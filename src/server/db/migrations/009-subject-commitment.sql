-- A decision made outside a browser (email link, API) names its person in the signed receipt: its
-- `subjectCommitment` is SHA-256 of `<salt>:<subject_id>` (services/subject-commitment.ts). The salt is kept here,
-- beside subject_id and like it outside the signed entry, so that `verify` can check the column against the
-- commitment; retention clears both when it detaches a receipt from its person. Receipts stored before carry no
-- commitment (and no salt).
ALTER TABLE receipts ADD COLUMN subject_salt text;
