-- AlterTable
ALTER TABLE "data_buckets" ADD COLUMN     "default_retention" TEXT,
ADD COLUMN     "lock_mode" TEXT NOT NULL DEFAULT 'compliance';

-- AlterTable
ALTER TABLE "data_object_versions" ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'put';

-- CreateTable
CREATE TABLE "data_multipart_uploads" (
    "upload_id" TEXT NOT NULL,
    "bucket" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'open',
    "content_type" TEXT NOT NULL,
    "jurisdiction" TEXT NOT NULL,
    "retention_ttl" TEXT NOT NULL,
    "classification" TEXT NOT NULL,
    "integrity" TEXT NOT NULL,
    "evidence_pointer" TEXT NOT NULL,
    "data_product_id" TEXT NOT NULL,
    "usage_policy_snapshot_id" TEXT NOT NULL,
    "consent_token_ref" TEXT NOT NULL,
    "legal_hold" BOOLEAN NOT NULL DEFAULT false,
    "initiated_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "data_multipart_uploads_pkey" PRIMARY KEY ("upload_id")
);

-- CreateTable
CREATE TABLE "data_multipart_parts" (
    "upload_id" TEXT NOT NULL,
    "part_number" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_multipart_parts_pkey" PRIMARY KEY ("upload_id","part_number")
);

-- CreateIndex
CREATE INDEX "data_multipart_uploads_bucket_key_idx" ON "data_multipart_uploads"("bucket", "key");

-- CreateIndex
CREATE INDEX "data_multipart_uploads_state_created_at_idx" ON "data_multipart_uploads"("state", "created_at");

-- CreateIndex
CREATE INDEX "data_multipart_parts_sha256_idx" ON "data_multipart_parts"("sha256");

-- CreateIndex
CREATE INDEX "data_object_versions_sha256_idx" ON "data_object_versions"("sha256");

-- AddForeignKey
ALTER TABLE "data_multipart_parts" ADD CONSTRAINT "data_multipart_parts_upload_id_fkey" FOREIGN KEY ("upload_id") REFERENCES "data_multipart_uploads"("upload_id") ON DELETE CASCADE ON UPDATE CASCADE;
