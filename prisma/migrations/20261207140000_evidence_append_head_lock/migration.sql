-- The append locks an existing chain head with SELECT ... FOR UPDATE and creates one only
-- for a chain's first event. Before, every event took the lock through an upsert
-- (INSERT ... ON CONFLICT DO UPDATE), which writes a new version of the head row before the
-- UPDATE that moves it writes another: two versions of the row per event in the heap and
-- the write-ahead log instead of one. The events, their hashes and the function's answer
-- are unchanged.
--
-- Two transactions starting the same chain: both find no head; one inserts it, the other's
-- INSERT waits for that transaction and then does nothing; its SELECT ... FOR UPDATE then
-- waits for the lock and reads the head as committed.
CREATE OR REPLACE FUNCTION audit_append_evidence(events json)
RETURNS TABLE (id text, sequence integer, prev_hash text, event_hash text)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
  head_sequence integer;
  head_hash text;
  filled record;
BEGIN
  FOR e IN
    SELECT * FROM json_to_recordset(events) AS x(
      chain_id text, tenant_id text, event_id uuid, event_type text, outcome text, occurred_at timestamptz,
      correlation_id text, pointer text, record text,
      before_hash text, before_prev text, before_sequence text, after_sequence text)
  LOOP
    INSERT INTO audit_evidence_artifacts (pointer, tenant_id, media_type, content)
    VALUES (e.pointer, e.tenant_id, 'application/json', e.record)
    ON CONFLICT (pointer) DO NOTHING;

    SELECT h.sequence, h.event_hash INTO head_sequence, head_hash
    FROM audit_chain_heads AS h WHERE h.chain_id = e.chain_id FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO audit_chain_heads (chain_id, tenant_id, sequence, event_hash)
      VALUES (e.chain_id, e.tenant_id, 0, '')
      ON CONFLICT (chain_id) DO NOTHING;
      SELECT h.sequence, h.event_hash INTO STRICT head_sequence, head_hash
      FROM audit_chain_heads AS h WHERE h.chain_id = e.chain_id FOR UPDATE;
    END IF;

    filled := audit_event_text(e.before_hash, e.before_prev, e.before_sequence, e.after_sequence, head_sequence + 1, head_hash);

    INSERT INTO audit_evidence_events
      (id, chain_id, sequence, tenant_id, event_type, outcome, occurred_at, correlation_id,
       evidence_pointer, prev_hash, event_hash, canonical)
    VALUES
      (e.event_id, e.chain_id, head_sequence + 1, e.tenant_id, e.event_type, e.outcome, e.occurred_at, e.correlation_id,
       e.pointer, NULLIF(head_hash, ''), filled.event_hash, filled.canonical);

    UPDATE audit_chain_heads AS h SET sequence = head_sequence + 1, event_hash = filled.event_hash
    WHERE h.chain_id = e.chain_id;

    id := e.event_id::text;
    sequence := head_sequence + 1;
    prev_hash := NULLIF(head_hash, '');
    event_hash := filled.event_hash;
    RETURN NEXT;
  END LOOP;
END
$$;
