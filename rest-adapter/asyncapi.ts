import { CloseCode } from '../gateway/subscriptions/close-codes';
import { AUDIT_CHANNELS } from '../lib/evidence/live/channels';
import { NCP_DECLARATION_TYPES } from '../lib/domain/ncp-declarations';

type JsonObject = Record<string, unknown>;

const string = { type: 'string' };

/** The envelope as delivered: the event exactly as hashed (see the deviation in its description). */
const EventEnvelope: JsonObject = {
  type: 'object',
  description:
    'Core10-05 evidence envelope, exactly as hashed into the chain (RFC 8785 canonical JSON). Deviation from the skeleton: ' +
    "event-specific fields are top-level members (as in the spec's golden bundles), not a `payload` object, so that " +
    '`event_hash` can be recomputed from the message itself; `payload` is therefore absent.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'Unique event id' },
    occurred_at: { type: 'string', format: 'date-time' },
    tenant_id: string,
    actor: string,
    event_type: { type: 'string', description: 'Event category' },
    correlation_id: { type: 'string', description: 'Shared id for governed action traceability' },
    sequence: { type: 'integer', description: 'Position in the tenant chain: 1, 2, 3, ... with no gaps' },
    chain_id: { type: 'string', description: 'Evidence chain identifier (ecs:tenant:<id> or ecs:platform)' },
    event_hash: { type: 'string', description: 'sha256: + hex SHA-256 of the canonical event without event_hash' },
    prev_hash: { type: 'string', description: 'event_hash of the previous event; absent on the first' },
    outcome: { type: 'string', enum: ['accepted', 'refused', 'failed'] },
    evidence_pointer: { type: 'string', description: 'eosc://evidence/sha256:<hex> of the decision record' },
    authority_snapshot_id: string,
    policy_snapshot_id: string,
    refusal_reason_class: string,
    refusal_reason_code: string,
    refusal_subject: string,
    refusal_reason: string,
  },
  required: [
    'id',
    'occurred_at',
    'tenant_id',
    'actor',
    'event_type',
    'correlation_id',
    'sequence',
    'chain_id',
    'event_hash',
    'outcome',
    'evidence_pointer',
  ],
  additionalProperties: true,
};

const ofTypes = (description: string, eventType: JsonObject): JsonObject => ({
  allOf: [{ $ref: '#/components/schemas/EventEnvelope' }, { type: 'object', description, properties: { event_type: eventType } }],
});

const SCHEMAS: Record<string, JsonObject> = {
  EventEnvelope,
  AuditEvent: ofTypes('Evidence-grade audit stream entry (aligned with WS5 evidence catalog)', string),
  TenantEvent: ofTypes('Tenant lifecycle events', { type: 'string', pattern: '^tenant\\.' }),
  WorkloadEvent: ofTypes('Workload lifecycle events', { type: 'string', pattern: '^workload\\.' }),
  MlInferenceEvent: ofTypes('ML inference evidence', { type: 'string', enum: ['ml.inference'] }),
  MlTrainingEvent: ofTypes('ML training evidence', {
    type: 'string',
    enum: ['ml.training.start', 'ml.training.checkpoint', 'ml.training.complete'],
  }),
  NoControlEvent: ofTypes('No-control profile proof events', {
    type: 'string',
    enum: [...NCP_DECLARATION_TYPES],
  }),
  AiMediaEvent: ofTypes('AI media evidence events', { type: 'string', pattern: '^content\\.' }),
};

const PAYLOADS: Record<string, JsonObject> = {
  MlEvidenceEvent: { oneOf: [{ $ref: '#/components/schemas/MlInferenceEvent' }, { $ref: '#/components/schemas/MlTrainingEvent' }] },
};

function channel(path: string): JsonObject {
  const { message, eventTypes, description } = AUDIT_CHANNELS[path]!;
  const graphqlArgs = eventTypes ? `(eventTypes: ${JSON.stringify(eventTypes)})` : '';
  return {
    description,
    subscribe: {
      operationId: `subscribe${message}`,
      summary: `auditEvents${graphqlArgs} over graphql-transport-ws, or GET /v1/events/stream${eventTypes ? `?event_type=${eventTypes.join(',')}` : ''}`,
      message: {
        name: message,
        contentType: 'application/json',
        payload: PAYLOADS[message] ?? { $ref: `#/components/schemas/${message}` },
      },
    },
    'x-ecs-event-types': eventTypes ?? null,
  };
}

/** The AsyncAPI 2.6 document of the live audit stream, aligned with the spec's skeleton (served at /v1/asyncapi.json). */
export function buildAsyncApi(): JsonObject {
  return {
    asyncapi: '2.6.0',
    id: 'urn:ecs:interop:events',
    info: {
      title: 'ECS Events (Audit/Async)',
      version: 'v1',
      description:
        'Committed evidence events, live. Every channel is the one audit stream with an event-type filter. Websocket: ' +
        'protocol graphql-transport-ws on /graphql, credentials in connection_init ({"authorization": "Bearer <token>"} ' +
        'or {"x-api-key": "<key>"}), subscription auditEvents(tenantId, eventTypes, outcomes, afterSequence). SSE: ' +
        'GET /v1/events/stream with tenant, event_type, outcome, after_sequence and Last-Event-ID. See docs/subscriptions.md.',
    },
    servers: {
      websocket: {
        url: '/graphql',
        protocol: 'ws',
        description: 'graphql-transport-ws (graphql-ws), same port as the HTTP API; wss behind TLS',
      },
      sse: { url: '/v1/events/stream', protocol: 'http', description: 'Server-Sent Events (text/event-stream)' },
    },
    defaultContentType: 'application/json',
    channels: Object.fromEntries(Object.keys(AUDIT_CHANNELS).map((path) => [path, channel(path)])),
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'OIDC access token (connection_init authorization, or the Authorization header for SSE)',
        },
        apiKey: {
          type: 'httpApiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'Tenant API key (connection_init x-api-key for the websocket)',
        },
      },
    },
    'x-ecs-close-codes': {
      [CloseCode.Unauthenticated]: 'missing, invalid or expired credentials: reconnect with fresh ones and resume',
      [CloseCode.Forbidden]: "no evidence.read right, or a tenant outside the caller's scope",
      [CloseCode.InitialisationTimeout]: 'no connection_init within 3 s',
      [CloseCode.SlowConsumer]: "slow consumer: the connection's buffer overflowed; reconnect and resume from the last sequence",
      [CloseCode.TooManyConnections]: 'too many connections of the principal (or a second connection_init)',
      [CloseCode.GoingAway]: 'the server shuts down: reconnect and resume',
    },
  };
}
