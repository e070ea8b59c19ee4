-- CreateTable
CREATE TABLE "audit_exports" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "chain_id" TEXT NOT NULL,
    "evidence_profile_id" TEXT NOT NULL,
    "from_sequence" INTEGER NOT NULL,
    "to_sequence" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "principal" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "request_evidence_pointer" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "heartbeat_at" TIMESTAMPTZ(3),
    "events_done" INTEGER NOT NULL DEFAULT 0,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "bundle_hash" TEXT,
    "merkle_root" TEXT,
    "manifest" TEXT,
    "plan" TEXT,
    "error" TEXT,

    CONSTRAINT "audit_exports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_exports_principal_state_idx" ON "audit_exports"("principal", "state");

-- CreateIndex
CREATE INDEX "audit_exports_state_requested_at_idx" ON "audit_exports"("state", "requested_at");

-- CreateIndex
CREATE INDEX "audit_exports_tenant_id_requested_at_idx" ON "audit_exports"("tenant_id", "requested_at");
