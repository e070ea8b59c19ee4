import { z } from 'zod';
import { actorOf } from '../../../lib/auth/caller';
import { API_KEY_SCOPES } from '../../../lib/auth/permissions';
import { EcsError, ErrorCode } from '../../../lib/errors';
import { parseInput } from '../../../lib/graphql/parse-input';
import { authorize, refuse } from '../../../lib/subgraph/authorize';
import { governAction } from '../../../lib/subgraph/governed-action';
import { ApiKeyLimitReached, assertKeyOfTenant, createApiKey, revokeApiKey } from '../data/api-keys';
import { ANY_ACTION, createBindingVersion } from '../data/authority-bindings';
import { assertS3CredentialOfTenant, createS3Credential, revokeS3Credential, S3CredentialLimitReached } from '../data/s3-credentials';
import type { MutationResolverMap } from '../generated/resolvers-types';
import { apiKeyLoader } from './api-key';
import { s3CredentialLoader } from './s3-credential';

const createApiKeyInput = z.object({
  tenantId: z.string().min(1).max(63),
  name: z.string().min(1).max(100),
  scopes: z
    .array(z.string().refine((scope) => (API_KEY_SCOPES as readonly string[]).includes(scope), 'is not an API key scope'))
    .min(1, 'must name at least one action')
    .max(API_KEY_SCOPES.length),
  expiresAt: z
    .date()
    .refine((date) => date.getTime() > Date.now(), 'must be in the future')
    .nullish(),
});

const createBindingInput = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, dots, underscores or hyphens'),
    subject: z.string().min(1).max(200),
    scopes: z
      .array(z.string().regex(/^(\*|[a-z]+(\.[a-z-]+)+)$/, 'must be an action like workload.deploy, or *'))
      .min(1)
      .max(100),
    issuer: z.string().min(1).max(300),
    validFrom: z.date(),
    validUntil: z.date(),
    proofRef: z.string().min(1).max(500).nullish(),
  })
  .refine((input) => input.validUntil > input.validFrom, { message: 'must be after validFrom', path: ['validUntil'] });

/** Live API keys per tenant when the plane runs without a configuration (`API_KEYS_PER_TENANT`). */
const DEFAULT_API_KEYS_PER_TENANT = 100;

export const MutationResolvers: MutationResolverMap = {
  createApiKey: async (_, args, context) => {
    const input = parseInput(createApiKeyInput, args.input);
    const governed = { action: 'apikey.manage', eventType: 'apikey.create' };
    // A key that reads the whole service's metrics is a platform administrator's to give.
    if (input.scopes.includes('metrics.read')) await authorize(context, 'metrics.read', input.tenantId);
    const { tenant, authoritySnapshotId } = await governAction(context, {
      permission: 'apikey.manage',
      ...governed,
      tenantId: input.tenantId,
    });
    try {
      return await createApiKey({
        db: context.db,
        data: { tenantId: input.tenantId, name: input.name, scopes: [...new Set(input.scopes)], expiresAt: input.expiresAt ?? null },
        actor: actorOf(context.caller),
        correlationId: context.correlationId,
        authoritySnapshotId,
        limit: context.config?.apiKeysPerTenant ?? DEFAULT_API_KEYS_PER_TENANT,
      });
    } catch (error) {
      if (!(error instanceof ApiKeyLimitReached)) throw error;
      throw await refuse(context, {
        tenantId: tenant.id,
        ...governed,
        authoritySnapshotId,
        reasonClass: 'policy_denied',
        reasonCode: 'api_key_limit_reached',
        reason: error.message,
        code: ErrorCode.Conflict,
        details: { api_key_limit: error.limit },
      });
    }
  },

  revokeApiKey: async (_, args, context) => {
    const key = assertKeyOfTenant(await apiKeyLoader(context).load(args.id), undefined);
    await authorize(context, 'apikey.manage', key.tenantId);
    return revokeApiKey({ db: context.db, key, actor: actorOf(context.caller), correlationId: context.correlationId });
  },

  createS3Credential: async (_, args, context) => {
    const input = parseInput(createApiKeyInput, args.input);
    const governed = { action: 'apikey.manage', eventType: 's3credential.create' };
    const { tenant, authoritySnapshotId } = await governAction(context, {
      permission: 'apikey.manage',
      ...governed,
      tenantId: input.tenantId,
    });
    try {
      return await createS3Credential({
        db: context.db,
        keys: context.keys,
        data: { tenantId: input.tenantId, name: input.name, scopes: [...new Set(input.scopes)], expiresAt: input.expiresAt ?? null },
        actor: actorOf(context.caller),
        correlationId: context.correlationId,
        authoritySnapshotId,
        limit: context.config?.apiKeysPerTenant ?? DEFAULT_API_KEYS_PER_TENANT,
      });
    } catch (error) {
      if (!(error instanceof S3CredentialLimitReached)) throw error;
      throw await refuse(context, {
        tenantId: tenant.id,
        ...governed,
        authoritySnapshotId,
        reasonClass: 'policy_denied',
        reasonCode: 's3_credential_limit_reached',
        reason: error.message,
        code: ErrorCode.Conflict,
        details: { s3_credential_limit: error.limit },
      });
    }
  },

  revokeS3Credential: async (_, args, context) => {
    const credential = assertS3CredentialOfTenant(await s3CredentialLoader(context).load(args.id), undefined);
    await authorize(context, 'apikey.manage', credential.tenantId);
    return revokeS3Credential({ db: context.db, credential, actor: actorOf(context.caller), correlationId: context.correlationId });
  },

  createAuthorityBinding: async (_, args, context) => {
    await authorize(context, 'authority.manage', undefined);
    const input = parseInput(createBindingInput, args.input);
    if (input.scopes.includes(ANY_ACTION) && input.scopes.length > 1) {
      throw new EcsError(ErrorCode.ValidationFailed, 'scopes: * already covers every action', { field: 'scopes' });
    }
    return createBindingVersion({
      db: context.db,
      data: { ...input, proofRef: input.proofRef ?? null },
      actor: actorOf(context.caller),
      correlationId: context.correlationId,
    });
  },
};
