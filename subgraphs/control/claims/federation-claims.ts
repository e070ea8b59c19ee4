/**
 * The federation claims (ws4 "Federation claims"): what this deployment actually does, built
 * from the running configuration on every request, so a changed setting shows at once.
 * The REST adapter adds what only it knows (its routes). docs/exports.md lists the fields.
 */
import { API_KEY_SCOPES } from '../../../lib/auth/permissions';
import { PROFILES } from '../../../lib/bundle/profiles';
import { EVENT_HASH_METHOD, JOINED_HASH_METHOD, MERKLE_ROOT_METHOD } from '../../../lib/bundle/hash-methods';
import type { Config } from '../../../lib/config/config';
import { CLASSIFICATIONS } from '../../../lib/domain/classification';
import type { JsonObject } from '../../../lib/evidence/canonical-json';
import { EXPORT_PROFILES } from '../../../lib/domain/evidence-profiles';
import { GOVERNANCE_HEADER_NAMES } from '../../../lib/domain/governance-headers';
import { NCP_DECLARATION_TYPES } from '../../../lib/domain/ncp-declarations';

export const CLAIMS_VERSION = '1.0';

function identity(config: Config): JsonObject {
  const { oidc } = config;
  const issuers: JsonObject[] = [];
  if (oidc.issuer) {
    issuers.push({
      issuer: oidc.issuer,
      kind: 'oidc',
      jwks: oidc.jwksUri ?? 'file (OIDC_JWKS_FILE)',
      audience: oidc.audience,
      algorithms: oidc.algorithms,
      token_types: oidc.tokenTypes,
    });
  }
  if (config.devIssuer.enabled) {
    issuers.push({
      issuer: 'development issuer (ecs token)',
      kind: 'development',
      audience: oidc.audience,
      algorithms: ['EdDSA'],
      production_use: false,
    });
  }
  return {
    model: 'OIDC bearer access tokens (JWT, verified against the issuer JWKS) or tenant-scoped API keys',
    accepted_issuers: issuers,
    claim_mappings: { roles: oidc.claims.roles, tenant: oidc.claims.tenant, jurisdiction: oidc.claims.jurisdiction, subject: 'sub' },
    required_claims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    clock_skew_seconds: oidc.clockSkewSeconds,
    max_token_age_seconds: oidc.maxTokenAgeSeconds ?? null,
    roles: ['platform-admin', 'tenant-admin', 'auditor', 'reader'],
    api_keys: { supported: true, header: 'X-API-Key', tenant_scoped: true, scopes: [...API_KEY_SCOPES] },
  };
}

function transport(config: Config): JsonObject {
  return {
    client_to_gateway: 'HTTPS terminated in front of the gateway (the gateway itself listens on HTTP)',
    service_to_service: {
      mtls: true,
      certificates: config.tlsFiles ? 'operator-provided (TLS_* files)' : 'development PKI generated under DATA_DIR/pki',
      gateway_client_common_name: config.gatewayClientCommonName,
      identity_propagation: 'short-lived caller identity signed by the gateway, checked by every plane',
    },
  };
}

function evidence(config: Config): JsonObject {
  return {
    evidence_profiles: [...EXPORT_PROFILES].filter((profile) => profile in PROFILES),
    default_evidence_profile: 'ecs-evidence-baseline',
    hash_profiles: ['ecs-hash-v1'],
    hash_methods: {
      event_hash: EVENT_HASH_METHOD,
      segment_hash: JOINED_HASH_METHOD,
      bundle_hash: JOINED_HASH_METHOD,
      merkle_root: MERKLE_ROOT_METHOD,
    },
    chain: {
      scope: 'one hash chain per tenant, plus a platform chain',
      signed_checkpoints: {
        query: 'chainHead',
        alg: 'EdDSA',
        typ: 'ecs-checkpoint+jws',
        jwks: '/.well-known/jwks.json',
        carries_merkle_root: true,
      },
      proofs: ['rfc9162-inclusion', 'rfc9162-consistency'],
    },
    exports: {
      bundle_format: 'application/gzip (tar)',
      signature: { alg: 'EdDSA', typ: 'ecs-bundle-manifest+jws', detached: 'manifest.sig', jwks: '/.well-known/jwks.json' },
      max_events_per_export: config.exports.maxEvents,
      exports_per_principal: config.exports.perPrincipal,
      provider_id: config.exports.providerId,
      offline_verifier: 'npx ecs verify <bundle> --jwks <file>; npx ecs verify-proof <proof.json> --jwks <file>',
    },
    no_control_profile: { declarations: [...NCP_DECLARATION_TYPES], artifacts: 'content-addressed, hash-checked by the verifier' },
  };
}

function storage(config: Config): JsonObject {
  return {
    classes: [
      {
        class: 'object',
        supported: true,
        max_object_bytes: config.maxObjectBytes,
        governance_headers: [...GOVERNANCE_HEADER_NAMES],
        versioning: true,
        object_lock: ['compliance', 'governance'],
        multipart: true,
      },
      { class: 'block', supported: false },
      { class: 'file', supported: false },
    ],
    classifications: [...CLASSIFICATIONS],
    jurisdictions: 'ISO 3166-1 alpha-2 codes, EU, EEA',
    portability: {
      objects: 'read back with their governance metadata (x-eosc-* headers); copies keep it unchanged',
      evidence: 'signed bundles of any chain range, verifiable offline',
      limits: {
        max_object_bytes: config.maxObjectBytes,
        max_events_per_export: config.exports.maxEvents,
        cross_jurisdiction_copy: 'refused',
      },
    },
  };
}

function policyEnforcement(config: Config): JsonObject {
  return {
    admission: {
      enforced: true,
      engine: 'cedar',
      actions: ['workload.deploy'],
      baseline: 'per tenant (policy baselines, immutable snapshots)',
    },
    storage: { enforced: true, checks: ['jurisdiction', 'classification ceiling', 'retention', 'legal hold', 'integrity'] },
    egress: {
      enforced: false,
      note: 'network egress is not mediated by this service; telemetry paths can be declared (telemetry.path.audit)',
    },
    evidence: { enforced: true, scope: 'every governed action and every refusal, written with the action in one transaction' },
    rate_limits: { per_principal_per_minute: config.rateLimit.perPrincipal, per_address_per_minute: config.rateLimit.perAddress },
  };
}

export function federationClaims(config: Config): JsonObject {
  return {
    claims_version: CLAIMS_VERSION,
    provider_id: config.exports.providerId,
    api: {
      versions: [{ version: 'v1', base_path: '/v1', status: 'current' }],
      deprecated: { successor: '/v1', sunset: config.apiSunset.toISOString().slice(0, 10) },
      cors_origins: config.corsOrigins,
    },
    identity: identity(config),
    transport: transport(config),
    evidence: evidence(config),
    storage: storage(config),
    policy_enforcement: policyEnforcement(config),
  };
}
