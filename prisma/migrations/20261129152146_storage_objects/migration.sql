-- CreateTable
CREATE TABLE "data_objects" (
    "id" UUID NOT NULL,
    "bucket" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "current_version_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_objects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "data_object_versions" (
    "version_id" TEXT NOT NULL,
    "object_id" UUID NOT NULL,
    "bucket" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "sha256" TEXT,
    "size" BIGINT NOT NULL DEFAULT 0,
    "content_type" TEXT,
    "jurisdiction" TEXT,
    "retention_ttl" TEXT,
    "retention_until" TIMESTAMPTZ(3),
    "classification" TEXT,
    "integrity" TEXT,
    "evidence_pointer" TEXT,
    "data_product_id" TEXT,
    "usage_policy_snapshot_id" TEXT,
    "consent_token_ref" TEXT,
    "legal_hold" BOOLEAN NOT NULL DEFAULT false,
    "lock_mode" TEXT,
    "delete_marker" BOOLEAN NOT NULL DEFAULT false,
    "put_evidence_pointer" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_object_versions_pkey" PRIMARY KEY ("version_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "data_objects_current_version_id_key" ON "data_objects"("current_version_id");

-- CreateIndex
CREATE INDEX "data_objects_tenant_id_idx" ON "data_objects"("tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "data_objects_bucket_key_key" ON "data_objects"("bucket", "key");

-- CreateIndex
CREATE INDEX "data_object_versions_object_id_created_at_idx" ON "data_object_versions"("object_id", "created_at");

-- CreateIndex
CREATE INDEX "data_object_versions_bucket_key_idx" ON "data_object_versions"("bucket", "key");

-- AddForeignKey
ALTER TABLE "data_objects" ADD CONSTRAINT "data_objects_current_version_id_fkey" FOREIGN KEY ("current_version_id") REFERENCES "data_object_versions"("version_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "data_object_versions" ADD CONSTRAINT "data_object_versions_object_id_fkey" FOREIGN KEY ("object_id") REFERENCES "data_objects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
