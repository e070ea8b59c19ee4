-- Live audit subscriptions: every evidence event is announced on the `ecs_evidence`
-- channel as "<chain_id> <sequence>". PostgreSQL delivers a NOTIFY raised inside a
-- transaction only when that transaction commits (and never when it rolls back), so
-- subscribers hear of committed events only; they read the event itself from the table,
-- which keeps the payload small and makes a lost notification harmless.
CREATE FUNCTION audit_notify_evidence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ecs_evidence', NEW.chain_id || ' ' || NEW.sequence);
  RETURN NULL;
END
$$;

CREATE TRIGGER audit_evidence_events_notify
  AFTER INSERT ON "audit_evidence_events"
  FOR EACH ROW EXECUTE FUNCTION audit_notify_evidence();
