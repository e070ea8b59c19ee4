-- CreateTable
CREATE TABLE "identity_authority_bindings" (
    "binding_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "snapshot_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "scopes" TEXT[],
    "issuer" TEXT NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_until" TIMESTAMPTZ(3) NOT NULL,
    "proof_ref" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identity_authority_bindings_pkey" PRIMARY KEY ("binding_id","version")
);

-- CreateIndex
CREATE UNIQUE INDEX "identity_authority_bindings_snapshot_id_key" ON "identity_authority_bindings"("snapshot_id");

-- Authority bindings are immutable: a change is a new version (a new row).
CREATE TRIGGER identity_authority_bindings_append_only
  BEFORE UPDATE OR DELETE ON "identity_authority_bindings"
  FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
