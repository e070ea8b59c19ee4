-- CreateTable
CREATE TABLE "identity_s3_credentials" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "access_key_id" TEXT NOT NULL,
    "sealed_secret" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "scopes" TEXT[],
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identity_s3_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "identity_s3_credentials_access_key_id_key" ON "identity_s3_credentials"("access_key_id");

-- CreateIndex
CREATE INDEX "identity_s3_credentials_tenant_id_created_at_idx" ON "identity_s3_credentials"("tenant_id", "created_at");
