import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { OperationNames } from '../lib/metrics/operation-names';
import { graphqlOperationDuration, graphqlOperations, secondsSince } from '../lib/metrics/service-metrics';

/**
 * Counts and times each GraphQL operation by its name (bounded, see OperationNames), type
 * and outcome. A request that never became an operation (unparsable, invalid) is labelled
 * `unresolved`, so the totals still add up to every request Apollo answered.
 */
export function operationMetrics<TContext extends BaseContext>(names = new OperationNames()): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, operationName, errors }) {
          const labels = { operation: names.label(operation ? operationName : undefined), type: operation?.operation ?? 'unresolved' };
          graphqlOperations.inc({ ...labels, outcome: errors?.length ? 'errors' : 'ok' });
          graphqlOperationDuration.observe(labels, secondsSince(started));
        },
      };
    },
  };
}
