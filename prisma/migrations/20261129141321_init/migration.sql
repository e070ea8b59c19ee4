-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "audit_evidence_events" (
    "id" UUID NOT NULL,
    "chain_id" TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "correlation_id" TEXT,
    "evidence_pointer" TEXT NOT NULL,
    "prev_hash" TEXT,
    "event_hash" TEXT NOT NULL,
    "canonical" TEXT NOT NULL,

    CONSTRAINT "audit_evidence_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_chain_heads" (
    "chain_id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    "event_hash" TEXT NOT NULL,

    CONSTRAINT "audit_chain_heads_pkey" PRIMARY KEY ("chain_id")
);

-- CreateTable
CREATE TABLE "audit_evidence_artifacts" (
    "pointer" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "media_type" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_evidence_artifacts_pkey" PRIMARY KEY ("pointer")
);

-- CreateTable
CREATE TABLE "control_tenants" (
    "id" TEXT NOT NULL,
    "authority_binding" TEXT NOT NULL,
    "jurisdiction" TEXT NOT NULL,
    "classification_ceiling" TEXT NOT NULL,
    "policy_baseline" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "control_tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "data_buckets" (
    "name" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "jurisdiction" TEXT NOT NULL,
    "default_classification" TEXT NOT NULL,
    "versioning" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_buckets_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "execution_workloads" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "envelope_type" TEXT NOT NULL,
    "image_ref" TEXT NOT NULL,
    "policy_ref" TEXT,
    "classification" TEXT NOT NULL,
    "jurisdiction" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "execution_workloads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity_api_keys" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identity_api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_evidence_events_tenant_id_occurred_at_idx" ON "audit_evidence_events"("tenant_id", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_evidence_events_correlation_id_idx" ON "audit_evidence_events"("correlation_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_evidence_events_chain_id_sequence_key" ON "audit_evidence_events"("chain_id", "sequence");

-- CreateIndex
CREATE INDEX "audit_evidence_artifacts_tenant_id_idx" ON "audit_evidence_artifacts"("tenant_id");

-- CreateIndex
CREATE INDEX "control_tenants_created_at_id_idx" ON "control_tenants"("created_at", "id");

-- CreateIndex
CREATE INDEX "data_buckets_tenant_id_created_at_idx" ON "data_buckets"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "execution_workloads_tenant_id_created_at_id_idx" ON "execution_workloads"("tenant_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "identity_api_keys_prefix_key" ON "identity_api_keys"("prefix");

-- CreateIndex
CREATE INDEX "identity_api_keys_tenant_id_created_at_idx" ON "identity_api_keys"("tenant_id", "created_at");
