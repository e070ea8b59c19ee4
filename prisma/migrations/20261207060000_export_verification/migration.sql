-- The offline verifier's verdict on a completed export's bundle file (JSON: valid, checks,
-- events, failures), checked by the audit plane once the bundle was written. Exports
-- completed before this column have none.
ALTER TABLE "audit_exports" ADD COLUMN "verification" TEXT;
