-- A stored Merkle node is a function of events that never change, so it never changes either:
-- the database rejects any UPDATE of one, whoever connects. Nodes may still be deleted (they are
-- derived; a reader recomputes what is missing), never rewritten to give a false root or proof.
CREATE FUNCTION audit_merkle_node_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a Merkle node never changes: UPDATE on % is not allowed', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_merkle_nodes_immutable
  BEFORE UPDATE ON "audit_merkle_nodes"
  FOR EACH ROW EXECUTE FUNCTION audit_merkle_node_immutable();
