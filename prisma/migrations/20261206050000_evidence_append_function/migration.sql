-- The append path of the evidence ledger in one statement (lib/evidence/ledger.ts).
--
-- Node prepares everything of an event that does not depend on its place in the chain,
-- including the RFC 8785 canonical text around the three members that do: `event_hash`,
-- `prev_hash` (absent from a chain's first event) and `sequence`. Their places in the
-- sorted key order are fixed, so the text comes in four pieces:
--
--   before_hash  [event_hash member]  before_prev  [prev_hash member]  before_sequence  <sequence>  after_sequence
--
-- `audit_event_text` fills in a position: the hashed text (the event without
-- `event_hash`), its `ecs-hash-v1` digest (`sha256:` + hex over the UTF-8 text) and the
-- stored canonical text (with `event_hash`). The Node-side equivalent is
-- `fillEventTemplate` in lib/evidence/event-template.ts; a property test keeps them equal.
CREATE FUNCTION audit_event_text(
  before_hash text, before_prev text, before_sequence text, after_sequence text,
  seq integer, prev_hash text,
  OUT event_hash text, OUT canonical text
)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  prev_member text := CASE WHEN prev_hash IS NULL OR prev_hash = '' THEN '' ELSE '"prev_hash":"' || prev_hash || '",' END;
  rest text := before_prev || prev_member || before_sequence || seq::text || after_sequence;
BEGIN
  event_hash := 'sha256:' || encode(sha256(convert_to(before_hash || rest, 'UTF8')), 'hex');
  canonical := before_hash || '"event_hash":"' || event_hash || '",' || rest;
END
$$;

-- Appends prepared events (a JSON array, in order) to their chains inside the caller's
-- transaction: stores each decision record (content-addressed, once), creates the chain
-- head on first use and locks it until the transaction ends, fills in the position,
-- inserts the event and moves the head. Returns each event's position and hash, in order.
CREATE FUNCTION audit_append_evidence(events json)
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

    INSERT INTO audit_chain_heads AS h (chain_id, tenant_id, sequence, event_hash)
    VALUES (e.chain_id, e.tenant_id, 0, '')
    ON CONFLICT (chain_id) DO UPDATE SET chain_id = EXCLUDED.chain_id
    RETURNING h.sequence, h.event_hash INTO head_sequence, head_hash;

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
