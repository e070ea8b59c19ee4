import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import type { Database } from '../../lib/db/database';
import { canonicalJson } from '../../lib/evidence/canonical-json';
import { appendEvidence, evidenceTransaction } from '../../lib/evidence/ledger';
import { loadSigningKeys } from '../../lib/keys/signing-keys';
import { verifyJws } from '../../lib/keys/verify-jws';
import { CHECKPOINT_TYP, verifyProofDocument } from '../../lib/proofs/proof-document';
import { ecs, saveJwks } from '../support/export-client';
import { rotateSigningKey } from '../support/rotate-signing-key';
import { makeTempDir } from '../../testkit/temp-dir';
import { startTestStack, uniqueId } from '../support/test-stack';
import type { TestStack } from '../support/test-stack';

const CHECKPOINT_FIELDS = 'chainId tenantId sequence headHash merkleRoot issuedAt kid jws';
const INCLUSION = `query($t: ID!, $s: Int, $e: ID, $n: Int) { inclusionProof(tenantId: $t, sequence: $s, eventId: $e, treeSize: $n) {
  document chainId treeSize root checkpoint { ${CHECKPOINT_FIELDS} } } }`;
const CONSISTENCY = `query($t: ID!, $f: Int!, $n: Int) { consistencyProof(tenantId: $t, fromSize: $f, toSize: $n) {
  document treeSize root checkpoint { ${CHECKPOINT_FIELDS} } firstCheckpoint { ${CHECKPOINT_FIELDS} } } }`;
const HEAD = `query($t: ID!) { chainHead(tenantId: $t) { ${CHECKPOINT_FIELDS} } }`;

type Json = Record<string, any>;

const results = (checks: Array<{ name: string; ok: boolean }>): Record<string, boolean> =>
  Object.fromEntries(checks.map((check) => [check.name, check.ok]));

describe('Merkle proofs and signed checkpoints of tenant chains', () => {
  let env: TestStack;
  let db: Database;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let jwks: JSONWebKeySet;
  let jwksFile: string;

  async function append(tenantId: string, count: number): Promise<Array<{ id: string; event_hash: string }>> {
    const events = [];
    for (let i = 0; i < count; i += 1) {
      events.push(
        await evidenceTransaction(db, tenantId, (tx) =>
          appendEvidence(tx, { tenantId, eventType: 'workload.admit', actor: 'writer', outcome: 'accepted', correlationId: `c-${i}` }),
        ),
      );
    }
    return events;
  }

  async function gql(query: string, variables: Record<string, unknown>): Promise<Json> {
    const result = await env.gql<Json>(query, variables);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data!;
  }

  async function cli(document: unknown, name: string, ...extra: string[]) {
    const file = path.join(temp.path, `${name}.json`);
    await writeFile(file, JSON.stringify(document, null, 2));
    return ecs('verify-proof', file, ...extra);
  }

  beforeAll(async () => {
    env = await startTestStack();
    db = env.stack.services.db;
    temp = await makeTempDir('ecs-proofs-');
    jwksFile = await saveJwks(env, path.join(temp.path, 'jwks.json'));
    jwks = JSON.parse(await readFile(jwksFile, 'utf8')) as JSONWebKeySet;
  });
  afterAll(async () => {
    await env.stop();
    await temp.remove();
  });

  it('chainHead signs the Merkle root of the whole chain', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 5);
    const head = (await gql(HEAD, { t: tenant })).chainHead;
    const inclusion = (await gql(INCLUSION, { t: tenant, s: 1 })).inclusionProof;
    expect(head).toMatchObject({ sequence: 5, merkleRoot: inclusion.root });
    const statement = JSON.parse(Buffer.from(head.jws.split('.')[1], 'base64url').toString()) as Json;
    expect(statement).toMatchObject({
      checkpoint_type: 'ecs.chain-checkpoint',
      sequence: 5,
      head_hash: head.headHash,
      merkle_root: head.merkleRoot,
    });
  });

  it('an inclusion proof as returned verifies with `ecs verify-proof --jwks`, a tampered one does not', async () => {
    const tenant = uniqueId('p');
    const events = await append(tenant, 11);
    const { inclusionProof } = await gql(INCLUSION, { t: tenant, e: events[6]!.id });
    expect(inclusionProof.document).toMatchObject({
      proof_type: 'ecs.merkle-inclusion-proof',
      leaf_index: 6,
      tree_size: 11,
      event_hash: events[6]!.event_hash,
      checkpoint: inclusionProof.checkpoint.jws,
    });
    const ok = await cli(inclusionProof.document, 'inclusion', '--jwks', jwksFile);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const tampered = { ...inclusionProof.document, event_hash: events[7]!.event_hash };
    expect((await cli(tampered, 'inclusion-tampered', '--jwks', jwksFile)).code).toBe(1);
    // Without the keys the checkpoint cannot be trusted.
    expect((await cli(inclusionProof.document, 'inclusion-nokeys')).code).toBe(1);
  });

  it('a consistency proof from an older size verifies with both checkpoints', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 6);
    const old = (await gql(HEAD, { t: tenant })).chainHead;
    await append(tenant, 7);
    const { consistencyProof } = await gql(CONSISTENCY, { t: tenant, f: 6 });
    expect(consistencyProof.document).toMatchObject({ first_size: 6, tree_size: 13, first_root: old.merkleRoot });
    expect(consistencyProof.firstCheckpoint).toMatchObject({ sequence: 6, merkleRoot: old.merkleRoot, headHash: old.headHash });
    expect((await cli(consistencyProof.document, 'consistency', '--jwks', jwksFile)).code).toBe(0);
  });

  it('refuses sizes outside the chain with 400, events of other chains with 404', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 3);
    const codes = async (query: string, variables: Record<string, unknown>) =>
      (await env.gql(query, variables)).errors?.[0]?.extensions?.code;
    expect(await codes(INCLUSION, { t: tenant, s: 4 })).toBe('ECS_VALIDATION_FAILED');
    expect(await codes(INCLUSION, { t: tenant, s: 1, n: 4 })).toBe('ECS_VALIDATION_FAILED');
    expect(await codes(INCLUSION, { t: tenant, s: 0 })).toBe('ECS_VALIDATION_FAILED');
    expect(await codes(INCLUSION, { t: tenant })).toBe('ECS_VALIDATION_FAILED');
    expect(await codes(CONSISTENCY, { t: tenant, f: 4 })).toBe('ECS_VALIDATION_FAILED');
    expect(await codes(INCLUSION, { t: uniqueId('none'), s: 1 })).toBe('ECS_NOT_FOUND');
    expect(await codes(INCLUSION, { t: tenant, e: 'not-a-uuid' })).toBe('ECS_NOT_FOUND');
  });

  it('checklist 50: an event of tenant B is not in tenant A’s tree, whatever proof is presented', async () => {
    const [a, b] = [uniqueId('a'), uniqueId('b')];
    await append(a, 4);
    const eventsB = await append(b, 4);
    expect((await env.gql(INCLUSION, { t: a, e: eventsB[1]!.id })).errors?.[0]?.extensions?.code).toBe('ECS_NOT_FOUND');
    const proofA = (await gql(INCLUSION, { t: a, s: 2 })).inclusionProof.document as Json;
    const proofB = (await gql(INCLUSION, { t: b, s: 2 })).inclusionProof.document as Json;
    // B's leaf with A's path and checkpoint, and A's leaf under B's checkpoint: both rejected.
    expect(results(await verifyProofDocument({ ...proofA, event_hash: proofB.event_hash }, { jwks })).proof).toBe(false);
    expect(results(await verifyProofDocument({ ...proofB, checkpoint: proofA.checkpoint }, { jwks })).checkpoint).toBe(false);
  });

  it('checklist 51: one size always has one root; a checkpoint of another root is equivocation the verifier rejects', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 9);
    const first = (await gql(HEAD, { t: tenant })).chainHead;
    await append(tenant, 3);
    const atNine = (await gql(INCLUSION, { t: tenant, s: 4, n: 9 })).inclusionProof;
    expect(atNine.checkpoint).toMatchObject({ sequence: 9, merkleRoot: first.merkleRoot, headHash: first.headHash });
    // A second root for size 9, signed by a key the service never published.
    const rogue = await loadSigningKeys(path.join(temp.path, 'rogue-keys.json'));
    const statement = {
      checkpoint_type: 'ecs.chain-checkpoint',
      chain_id: first.chainId,
      tenant_id: tenant,
      sequence: 9,
      head_hash: first.headHash,
      merkle_root: `sha256:${'0'.repeat(64)}`,
      issued_at: new Date().toISOString(),
    };
    const forged = await rogue.sign(Buffer.from(canonicalJson(statement)), CHECKPOINT_TYP);
    const checks = results(await verifyProofDocument({ ...atNine.document, root: statement.merkle_root, checkpoint: forged }, { jwks }));
    expect(checks).toEqual({ proof: false, checkpoint: false });
    // Consistency from the kept checkpoint to the head: the kept root is a prefix.
    const { consistencyProof } = await gql(CONSISTENCY, { t: tenant, f: 9 });
    expect(consistencyProof.document.first_root).toBe(first.merkleRoot);
    expect(results(await verifyProofDocument(consistencyProof.document, { jwks }))).toEqual({
      proof: true,
      checkpoint: true,
      'first-checkpoint': true,
    });
  });

  it('checklist 48: tail truncation is detected against a checkpoint kept from before', async () => {
    const tenant = uniqueId('p');
    const events = await append(tenant, 8);
    const kept = (await gql(HEAD, { t: tenant })).chainHead;
    // An attacker with database rights removes the last three events and rewinds the head.
    await db.prisma.$executeRawUnsafe('ALTER TABLE audit_evidence_events DISABLE TRIGGER audit_evidence_events_append_only');
    try {
      await db.prisma.$executeRawUnsafe(`DELETE FROM audit_evidence_events WHERE chain_id = $1 AND sequence > 5`, `ecs:tenant:${tenant}`);
    } finally {
      await db.prisma.$executeRawUnsafe('ALTER TABLE audit_evidence_events ENABLE TRIGGER audit_evidence_events_append_only');
    }
    const now = (await gql(HEAD, { t: tenant })).chainHead;
    expect(now.sequence).toBe(5);
    // The service cannot prove the kept tree any more: every request for it fails.
    const refused = await env.gql(CONSISTENCY, { t: tenant, f: kept.sequence });
    expect(refused.errors?.[0]?.message).toMatch(/beyond the (chain head|tree size)/);
    expect((await env.gql(INCLUSION, { t: tenant, s: 1, n: kept.sequence })).errors?.[0]?.message).toMatch(/beyond the chain head 5/);
    expect(
      (await gql('query($t: ID!, $n: Int) { verifyChain(tenantId: $t, toSequence: $n) { valid reason } }', { t: tenant, n: kept.sequence }))
        .verifyChain,
    ).toMatchObject({
      valid: false,
      reason: 'events are missing at the end of the range',
    });
    // A client holding only an older checkpoint (size 4) is not alerted by consistency alone...
    const fromOlder = (await gql(CONSISTENCY, { t: tenant, f: 4 })).consistencyProof;
    expect(results(await verifyProofDocument(fromOlder.document, { jwks })).proof).toBe(true);
    // ...but the service's signed head now says size 5, ending at the kept chain's fifth event,
    // after it signed size 8 for the same chain: two checkpoints under its published keys that
    // prove the log shrank.
    const statement = async (head: Json) =>
      JSON.parse(Buffer.from((await verifyJws(head.jws, { jwks, typ: CHECKPOINT_TYP })).payload).toString('utf8')) as Json;
    const [before, after] = [await statement(kept), await statement(now)];
    expect(before).toMatchObject({ chain_id: `ecs:tenant:${tenant}`, sequence: 8, head_hash: events[7]!.event_hash });
    expect(after).toMatchObject({ chain_id: `ecs:tenant:${tenant}`, sequence: 5, head_hash: events[4]!.event_hash });
    expect(Date.parse(after.issued_at)).toBeGreaterThanOrEqual(Date.parse(before.issued_at));
  });

  it('checklist 55: a checkpoint by an unknown key is rejected; after key rotation old checkpoints still verify', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 4);
    const { inclusionProof } = await gql(INCLUSION, { t: tenant, s: 2 });
    const otherKeys = await loadSigningKeys(path.join(temp.path, 'other-keys.json'));
    expect(results(await verifyProofDocument(inclusionProof.document, { jwks: otherKeys.jwks as JSONWebKeySet })).checkpoint).toBe(false);
    // Rotation appends a key; the published set keeps the old one, so the old checkpoint verifies.
    const keyFile = path.join(env.dataDir, 'keys', 'signing-keys.json');
    const newKid = await rotateSigningKey(keyFile);
    const rotated = await loadSigningKeys(keyFile);
    expect(rotated.kid).toBe(newKid);
    expect(rotated.jwks.keys.map((key) => key.kid)).toContain(inclusionProof.checkpoint.kid);
    expect(results(await verifyProofDocument(inclusionProof.document, { jwks: rotated.jwks as JSONWebKeySet })).checkpoint).toBe(true);
    // Without the old key (only the new one published) it is rejected.
    const onlyNew = { keys: rotated.jwks.keys.filter((key) => key.kid === newKid) } as JSONWebKeySet;
    expect(results(await verifyProofDocument(inclusionProof.document, { jwks: onlyNew })).checkpoint).toBe(false);
  });

  it('checklist 56: served proofs with a wrong length, order, size or index are rejected', async () => {
    const tenant = uniqueId('p');
    await append(tenant, 13);
    const inclusion = (await gql(INCLUSION, { t: tenant, s: 6 })).inclusionProof.document as Json;
    const consistency = (await gql(CONSISTENCY, { t: tenant, f: 5 })).consistencyProof.document as Json;
    const bad: Json[] = [
      { ...inclusion, inclusion_path: inclusion.inclusion_path.slice(1) },
      { ...inclusion, inclusion_path: [...inclusion.inclusion_path, inclusion.inclusion_path[0]] },
      { ...inclusion, inclusion_path: [...inclusion.inclusion_path].reverse() },
      { ...inclusion, leaf_index: 13 },
      { ...inclusion, leaf_index: 6 },
      { ...inclusion, tree_size: 12 },
      { ...inclusion, tree_size: 14 },
      { ...consistency, consistency_path: consistency.consistency_path.slice(0, -1) },
      { ...consistency, consistency_path: [...consistency.consistency_path].reverse() },
      { ...consistency, first_size: 6 },
      { ...consistency, first_size: 14 },
      {
        ...consistency,
        inclusion_path: Array.from({ length: 100 }, () => inclusion.root),
        consistency_path: Array.from({ length: 100 }, () => inclusion.root),
      },
    ];
    expect(results(await verifyProofDocument(inclusion, { jwks }))).toEqual({ proof: true, checkpoint: true });
    // The path alone does not fix tree_size (13 and 14 share this path): the signed checkpoint does.
    for (const document of bad) {
      const checks = await verifyProofDocument(document, { jwks });
      expect({ document, rejected: checks.some((check) => !check.ok) }).toEqual({ document, rejected: true });
    }
    expect((await cli(bad[3], 'index-too-large', '--jwks', jwksFile)).code).toBe(1);
  });
});
