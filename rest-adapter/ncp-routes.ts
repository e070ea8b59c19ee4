import { z } from 'zod';
import { eventBody } from './event-routes';
import './export-schemas';
import { defineRoute } from './route-table';
import type { RouteDef } from './route-table';
import { NCP_DECLARATION_TYPES } from '../lib/domain/ncp-declarations';

const declareBody = z.strictObject({
  tenant_id: z.string().min(1).optional().describe("Defaults to the caller's tenant (required for platform callers)"),
  type: z.enum(NCP_DECLARATION_TYPES),
  artifact: z
    .record(z.string(), z.unknown())
    .describe('The proof artifact (JSON object); stored as canonical JSON, addressed by its SHA-256'),
  artifact_ref: z.string().optional().describe('Optional check: eosc://artifact/sha256:<hex of the canonical artifact>'),
  artifact_hash: z.string().optional().describe('Optional check: sha256:<hex of the canonical artifact>'),
  subject_id: z.string().min(1).optional().describe('Whom the declaration is about (e.g. the integrator)'),
});

interface DeclarationNode {
  artifactType: string;
  artifactRef: string;
  artifactHash: string;
  event: { eventHash: string; canonical: string };
}

export const ncpRoutes: RouteDef[] = [
  defineRoute({
    method: 'post',
    path: '/ncp/declarations',
    operationId: 'declareNoControl',
    governs: { action: 'ncp.declare', tenant: ({ body, caller }) => body.tenant_id ?? caller.tenantId },
    summary: 'Record a No-Control Profile declaration with its proof artifact',
    tag: 'audit',
    body: declareBody,
    status: 201,
    description: 'Created: the artifact is stored and the declaration evidenced',
    response: 'NcpDeclaration',
    errors: [400, 404],
    handler: async ({ body, execute }) => {
      const data = await execute<{ declareNoControl: DeclarationNode }>(
        `mutation Declare($input: NcpDeclarationInput!) { declareNoControl(input: $input) { artifactType artifactRef artifactHash event { eventHash canonical } } }`,
        {
          input: {
            tenantId: body.tenant_id,
            type: body.type,
            artifact: body.artifact,
            artifactRef: body.artifact_ref,
            artifactHash: body.artifact_hash,
            subjectId: body.subject_id,
          },
        },
      );
      const declaration = data.declareNoControl;
      return {
        artifact_type: declaration.artifactType,
        artifact_ref: declaration.artifactRef,
        artifact_hash: declaration.artifactHash,
        event: eventBody(declaration.event),
      };
    },
  }),
];
