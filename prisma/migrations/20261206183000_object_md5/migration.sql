-- S3's ETag of each version (MD5, or MD5 of the parts' MD5s with -N); versions stored before stay NULL.
ALTER TABLE "data_object_versions" ADD COLUMN "s3_etag" TEXT;

-- The MD5 of each multipart part, recorded when the part is stored.
ALTER TABLE "data_multipart_parts" ADD COLUMN "md5" TEXT;
