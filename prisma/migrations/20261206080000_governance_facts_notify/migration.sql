-- The facts a governed action checks before it runs (a tenant's status and bindings, the
-- authority binding in force, the policy snapshot in force) are remembered by each process
-- (lib/subgraph/governance-facts-cache.ts). Any change to the tables that hold them is
-- announced on `ecs_governance_facts` when it commits, so every process forgets what it
-- remembered. These tables change rarely; the database-wide notification lock a NOTIFY
-- takes at commit (which made the evidence trigger a bottleneck) does not matter here.
CREATE FUNCTION governance_facts_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ecs_governance_facts', TG_TABLE_NAME);
  RETURN NULL;
END
$$;

CREATE TRIGGER control_tenants_governance_facts
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "control_tenants"
FOR EACH STATEMENT EXECUTE FUNCTION governance_facts_notify();

CREATE TRIGGER control_policy_baselines_governance_facts
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "control_policy_baselines"
FOR EACH STATEMENT EXECUTE FUNCTION governance_facts_notify();

CREATE TRIGGER control_policy_snapshots_governance_facts
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "control_policy_snapshots"
FOR EACH STATEMENT EXECUTE FUNCTION governance_facts_notify();

CREATE TRIGGER identity_authority_bindings_governance_facts
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "identity_authority_bindings"
FOR EACH STATEMENT EXECUTE FUNCTION governance_facts_notify();
