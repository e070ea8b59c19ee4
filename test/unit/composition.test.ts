import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SUPERGRAPH_FILE } from '../../gateway/supergraph-file';
import { CompositionFailed, composeSupergraph } from '../../lib/federation/compose-supergraph';
import { SUBGRAPH_SCHEMA_FILES } from '../../subgraphs/schema-files';
import { makeTempDir } from '../../testkit/temp-dir';

describe('supergraph composition', () => {
  it('the committed supergraph is what `npm run compose` writes from the plane schemas', async () => {
    const fresh = await composeSupergraph(SUBGRAPH_SCHEMA_FILES);
    const committed = await readFile(SUPERGRAPH_FILE, 'utf8');
    // When this fails: run `npm run compose` and commit gateway/supergraph.graphql.
    expect(committed).toBe(fresh);
  });

  it('joins Tenant across all five planes with the control plane owning its fields', async () => {
    const sdl = await composeSupergraph(SUBGRAPH_SCHEMA_FILES);
    const tenant = /type Tenant\n((?:.*\n)*?)\{/.exec(sdl)?.[1] ?? '';
    for (const graph of ['IDENTITY', 'CONTROL', 'EXECUTION', 'DATA', 'AUDIT']) {
      expect(tenant).toContain(`@join__type(graph: ${graph}, key: "id")`);
    }
  });

  it("fails with the composer's own message when plane schemas disagree", async () => {
    const dir = await makeTempDir();
    try {
      const files = { ...SUBGRAPH_SCHEMA_FILES };
      const broken = path.join(dir.path, 'execution.graphql');
      await copyFile(SUBGRAPH_SCHEMA_FILES.execution, broken);
      const text = await readFile(broken, 'utf8');
      // Tenant.id is ID! everywhere else; make it an Int in one plane.
      await writeFile(broken, text.replace('type Tenant @key(fields: "id") {\n  id: ID!', 'type Tenant @key(fields: "id") {\n  id: Int!'));
      files.execution = broken;
      const failure = await composeSupergraph(files).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(CompositionFailed);
      expect((failure as CompositionFailed).messages.join('\n')).toMatch(/Tenant\.id/);
      expect((failure as Error).message).toContain('supergraph composition failed');
    } finally {
      await dir.remove();
    }
  });
});
