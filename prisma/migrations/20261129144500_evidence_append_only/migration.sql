-- Evidence is append-only: the database itself rejects any change or removal of an
-- evidence event or artifact, whoever connects. (Tampering that bypasses this, e.g. by
-- disabling the triggers, is still detected by chain verification.)
CREATE FUNCTION audit_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_evidence_events_append_only
  BEFORE UPDATE OR DELETE ON "audit_evidence_events"
  FOR EACH ROW EXECUTE FUNCTION audit_reject_change();

CREATE TRIGGER audit_evidence_events_no_truncate
  BEFORE TRUNCATE ON "audit_evidence_events"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

CREATE TRIGGER audit_evidence_artifacts_append_only
  BEFORE UPDATE OR DELETE ON "audit_evidence_artifacts"
  FOR EACH ROW EXECUTE FUNCTION audit_reject_change();

CREATE TRIGGER audit_evidence_artifacts_no_truncate
  BEFORE TRUNCATE ON "audit_evidence_artifacts"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
