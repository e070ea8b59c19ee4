-- A multipart upload may be started without the whole object's integrity: each part then
-- declares its own SHA-256, and the object's integrity is the SHA-256 of the assembled parts.
ALTER TABLE "data_multipart_uploads" ALTER COLUMN "integrity" DROP NOT NULL;
