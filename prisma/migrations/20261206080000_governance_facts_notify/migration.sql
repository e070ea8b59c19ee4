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

DO $$
DECLARE
  fact_table text;
BEGIN
  FOREACH fact_table IN ARRAY ARRAY['control_tenants', 'control_policy_baselines', 'control_policy_snapshots', 'identity_authority_bindings']
  LOOP
    EXECUTE format(
      'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION governance_facts_notify()',
      fact_table || '_governance_facts', fact_table);
  END LOOP;
END
$$;
