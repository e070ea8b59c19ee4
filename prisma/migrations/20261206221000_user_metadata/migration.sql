-- S3 user-defined metadata (x-amz-meta-* other than the governance names), kept with each
-- version and with a multipart upload until it completes. NULL: none.
ALTER TABLE "data_object_versions" ADD COLUMN "user_metadata" TEXT;
ALTER TABLE "data_multipart_uploads" ADD COLUMN "user_metadata" TEXT;
