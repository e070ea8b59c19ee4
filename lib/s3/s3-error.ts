/**
 * The error codes S3 clients understand, with the HTTP status S3 answers them with.
 * SDKs read `Code` from the XML error document (or the status alone for HEAD).
 */
export const S3_ERROR_STATUS = {
  /** Malformed `Authorization` header or credential scope (wrong service, region, terminator, date). */
  AuthorizationHeaderMalformed: 400,
  /** Malformed or inconsistent presigned URL parameters (`X-Amz-Expires` over 7 days, missing parameters). */
  AuthorizationQueryParametersError: 400,
  /** The signature computed over the request does not match the one sent. */
  SignatureDoesNotMatch: 403,
  /** The access key id is unknown or revoked. */
  InvalidAccessKeyId: 403,
  /** The credential's own expiry has passed. */
  ExpiredToken: 400,
  /** Refused: an expired or not yet valid presigned URL, unsigned `x-amz-*` headers, a missing right. */
  AccessDenied: 403,
  /** The request time is more than the allowed skew (15 minutes) from the server's clock. */
  RequestTimeTooSkewed: 403,
  /** No `Authorization` header, no presigned parameters: S3 needs a signed request. */
  MissingSecurityHeader: 400,
  /** A header or parameter with a value S3 does not take (`x-amz-content-sha256`, `x-amz-date`). */
  InvalidArgument: 400,
  /** An authentication mechanism other than SigV4 (`AWS4-HMAC-SHA256`), or temporary session tokens. */
  InvalidRequest: 400,
  /** The request path is not valid percent-encoding. */
  InvalidURI: 400,
  /** The body of an `aws-chunked` upload is malformed, or shorter or longer than declared. */
  IncompleteBody: 400,
  /** A chunk of an `aws-chunked` upload is larger than the server accepts. */
  InvalidChunkSizeError: 400,
  /** The body does not hash to the signed `x-amz-content-sha256`. */
  XAmzContentSHA256Mismatch: 400,
  /** A checksum sent with the body (`x-amz-checksum-sha256`, also as a trailer) does not match it. */
  BadDigest: 400,
  /** A `Content-MD5` header that is not the base64 of 16 bytes. */
  InvalidDigest: 400,
  /** A bucket name S3 clients could not have meant (empty, too long, with `/`, `..` or spaces). */
  InvalidBucketName: 400,
  /** User-defined metadata (`x-amz-meta-*`) over 2 KiB. */
  MetadataTooLarge: 400,
  /** A `Range` that lies outside the object. */
  InvalidRange: 416,
  /** A conditional request whose condition (`If-Match`, `If-Unmodified-Since`) does not hold. */
  PreconditionFailed: 412,
  /** The multipart upload named by `uploadId` does not exist, or was completed or aborted. */
  NoSuchUpload: 404,
  /** A part listed on completion was not uploaded, or its ETag is not the part's. */
  InvalidPart: 400,
  /** The parts listed on completion are not in ascending part-number order. */
  InvalidPartOrder: 400,
  /** An XML request body that is not well formed or not of the expected shape. */
  MalformedXML: 400,
  /** An operation this endpoint does not offer (yet). */
  NotImplemented: 501,
  /** Anything unexpected; details stay in the log. */
  InternalError: 500,
} as const;

export type S3ErrorCode = keyof typeof S3_ERROR_STATUS;

/** A refusal in S3's vocabulary; `message` is safe to send to the client. */
export class S3Error extends Error {
  readonly status: number;

  constructor(
    readonly code: S3ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
    this.status = S3_ERROR_STATUS[code];
  }
}
