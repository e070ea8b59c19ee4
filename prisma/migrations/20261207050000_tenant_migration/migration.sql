-- Tenant migration (docs/migration.md): a tenant imported from another deployment is
-- `importing` until it is activated; a tenant that left is `migrated`, read-only here, and
-- `migrated_to` says where it went (the target's tenant, as the operator named it).
ALTER TABLE "control_tenants" ADD COLUMN "migrated_to" TEXT;
