import { decodeKeyCursor, encodeKeyCursor } from '../../../lib/graphql/key-cursor';
import { pageSize } from '../../../lib/graphql/page-size';
import { authorize } from '../../../lib/subgraph/authorize';
import { assertService } from '../../../lib/subgraph/governed-action';
import { resolveApiKey } from '../data/api-keys';
import { resolveS3SigningKey } from '../data/s3-credentials';
import { decideAuthority, findBindingBySnapshot, findBindings, findLatestBinding } from '../data/authority-bindings';
import type { QueryResolverMap } from '../generated/resolvers-types';
import { apiKeyLoader } from './api-key';
import { s3CredentialLoader } from './s3-credential';

export const QueryResolvers: QueryResolverMap = {
  whoami: (_, __, context) => context.caller,

  apiKey: async (_, args, context) => {
    const key = await apiKeyLoader(context).load(args.id);
    if (key) await authorize(context, 'apikey.read', key.tenantId);
    return key;
  },

  /** Authority bindings are platform governance records, readable by every authenticated role. */
  authorityBinding: async (_, args, context) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    return findLatestBinding({ db: context.db, id: args.id });
  },

  authoritySnapshot: async (_, args, context) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    return findBindingBySnapshot({ db: context.db, snapshotId: args.snapshotId });
  },

  authorityBindings: async (_, args, context) => {
    await authorize(context, 'authority.read', context.caller.tenantId);
    const { items, hasMore } = await findBindings({ db: context.db, first: pageSize(args.first), afterId: decodeKeyCursor(args.after) });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last ? encodeKeyCursor(last.id) : null };
  },

  authorityDecision: async (_, args, context) => {
    await assertService(context, 'authority.decide');
    return decideAuthority({ db: context.db, bindingId: args.bindingId, action: args.action });
  },

  apiKeyLookup: async (_, args, context) => {
    await assertService(context, 'apikey.resolve');
    const resolution = await resolveApiKey({ db: context.db, presented: args.key });
    if (!resolution.ok) return { ok: false, reason: resolution.reason };
    const { key } = resolution;
    return { ok: true, reason: null, apiKeyId: key.id, tenantId: key.tenantId, scopes: key.scopes, expiresAt: key.expiresAt };
  },

  s3Credential: async (_, args, context) => {
    const credential = await s3CredentialLoader(context).load(args.id);
    if (credential) await authorize(context, 'apikey.read', credential.tenantId);
    return credential;
  },

  s3SigningKey: async (_, args, context) => {
    await assertService(context, 's3credential.resolve');
    const { accessKeyId, date, region, service } = args;
    const resolution = await resolveS3SigningKey({ db: context.db, keys: context.keys, accessKeyId, scope: { date, region, service } });
    if (!resolution.ok) return { ok: false, reason: resolution.reason };
    const { credential } = resolution;
    return {
      ok: true,
      s3CredentialId: credential.id,
      tenantId: credential.tenantId,
      scopes: credential.scopes,
      expiresAt: credential.expiresAt,
      signingKey: resolution.signingKey.toString('hex'),
    };
  },
};
