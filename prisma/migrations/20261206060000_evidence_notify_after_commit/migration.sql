-- Committed evidence is announced on `ecs_evidence` by the appending process after the
-- commit (lib/evidence/commit-announcer.ts), no longer by a trigger inside the appending
-- transaction: a transaction that has sent a NOTIFY takes PostgreSQL's database-wide
-- notification lock while it commits, so every tenant's appends committed one at a time.
DROP TRIGGER audit_evidence_events_notify ON "audit_evidence_events";
DROP FUNCTION audit_notify_evidence();
