// The `next` messages the websocket writes itself must be byte for byte those graphql-ws's
// server would write for the same result: compared here with graphql-ws's own server.
import { GraphQLError, parse } from 'graphql';
import type { ExecutionResult } from 'graphql';
import { makeServer } from 'graphql-ws';
import { nextFrame, nextFramePrefix, nextPayloadText } from '../../gateway/subscriptions/next-message';
import type { NextPayload } from '../../gateway/subscriptions/next-message';

/** What graphql-ws's server sends for `results` of subscription `id`, with `onNext`. */
async function graphqlWsMessages(id: string, results: ExecutionResult[], onNext: NextPayload): Promise<string[]> {
  const sent: string[] = [];
  let receive: (data: string) => Promise<void> = async () => undefined;
  const server = makeServer({
    connectionInitWaitTimeout: 0,
    onSubscribe: () => ({ schema: undefined as never, document: parse('subscription { auditEvents { id } }') }),
    subscribe: async () =>
      (async function* () {
        yield* results;
      })(),
    onNext: (_ctx, _id, _payload, _args, result) => onNext(result),
  });
  server.opened(
    {
      protocol: 'graphql-transport-ws',
      send: async (data) => void sent.push(data),
      close: () => undefined,
      onMessage: (cb) => void (receive = cb),
    },
    {},
  );
  await receive(JSON.stringify({ type: 'connection_init' }));
  await receive(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { auditEvents { id } }' } }));
  return sent.filter((message) => JSON.parse(message).type === 'next');
}

const ownFrame = (id: string, result: ExecutionResult, onNext: NextPayload) =>
  nextFrame(nextFramePrefix(id), nextPayloadText(result, onNext)).toString('utf8');

describe('next messages written once per request', () => {
  const failure = new GraphQLError('boom', { path: ['auditEvents', 'details'], extensions: { code: 'ECS_INTERNAL' } });
  const results: ExecutionResult[] = [
    { data: { auditEvents: { id: 'evt-1', details: { note: 'caf\u00e9 \u{1f600} "quoted" \\ \n' } } } },
    { data: { auditEvents: null }, errors: [failure] },
    { data: { auditEvents: { id: 'evt-2' } }, extensions: { cost: 1 } },
  ];
  const untouched: NextPayload = () => undefined;
  const formatted: NextPayload = (result) =>
    result.errors ? { ...result, errors: result.errors.map((error) => ({ message: `formatted ${error.message}` })) } : undefined;

  it.each([
    ['graphql-ws formats the errors', untouched],
    ['the server formats the errors', formatted],
  ])('are what graphql-ws sends when %s', async (_name, onNext) => {
    for (const id of ['1', '01J9ZK6Q-uuid', 'odd "id" \u00e9']) {
      expect(results.map((result) => ownFrame(id, result, onNext))).toEqual(await graphqlWsMessages(id, results, onNext));
    }
  });

  it('put the same payload text behind each id', () => {
    const payload = nextPayloadText(results[0]!, untouched);
    const first = nextFrame(nextFramePrefix('a'), payload).toString();
    const second = nextFrame(nextFramePrefix('bb'), payload).toString();
    expect(JSON.parse(first)).toEqual({ id: 'a', type: 'next', payload: results[0] });
    expect(JSON.parse(second)).toEqual({ id: 'bb', type: 'next', payload: results[0] });
    expect(first.slice('{"id":"a"'.length)).toBe(second.slice('{"id":"bb"'.length));
  });
});
