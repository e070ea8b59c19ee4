import { GraphQLError, Kind } from 'graphql';
import type { FragmentDefinitionNode, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';
import { ErrorCode } from '../lib/errors';

/** Introspection fields that answer a list: nesting them multiplies the answer. */
const LIST_FIELDS = new Set(['types', 'fields', 'inputFields', 'args', 'interfaces', 'possibleTypes', 'enumValues', 'directives']);

/**
 * Lists an introspection path may nest. The standard introspection query (GraphiQL,
 * graphql-codegen, Apollo's tools) nests three: `types { fields { args } }`; `type { ofType }`
 * chains are single objects and cost nothing. A fourth list under them (`fields { type { fields
 * ... } }`) only repeats the schema, each level multiplying the answer by its size.
 */
export const MAX_INTROSPECTION_LISTS = 3;

/**
 * Bounds introspection by its shape instead of its depth: the standard introspection query
 * is 13 levels deep (its `ofType` chain), beyond the gateway's depth limit (6), which
 * therefore leaves `__schema` to this rule (graphql-armor skips it); `__type` is bounded by both. Fragments are followed; a cycle of
 * fragments is left to graphql's own rule. Errors name the limit (ECS_BAD_REQUEST).
 */
export const introspectionShapeRule: ValidationRule = (context: ValidationContext) => {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let reported = false;

  /** The deepest count of nested list fields below `selectionSet` (introspection only). */
  function deepest(selectionSet: SelectionSetNode | undefined, inside: boolean, lists: number, visiting: Set<string>): number {
    if (!selectionSet) return lists;
    let most = lists;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const within = inside || name === '__schema' || name === '__type';
        const counted = within && LIST_FIELDS.has(name) ? lists + 1 : lists;
        most = Math.max(most, deepest(selection.selectionSet, within, counted, visiting));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        most = Math.max(most, deepest(selection.selectionSet, inside, lists, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) continue;
        visiting.add(name);
        most = Math.max(most, deepest(fragment.selectionSet, inside, lists, visiting));
        visiting.delete(name);
      }
      if (most > MAX_INTROSPECTION_LISTS) return most;
    }
    return most;
  }

  return {
    OperationDefinition(operation) {
      if (reported) return;
      const lists = deepest(operation.selectionSet, false, 0, new Set());
      if (lists > MAX_INTROSPECTION_LISTS) {
        reported = true;
        context.reportError(
          new GraphQLError(`introspection nests ${lists} lists; at most ${MAX_INTROSPECTION_LISTS} (types, fields, args) are answered`, {
            nodes: [operation],
            extensions: { code: ErrorCode.BadRequest },
          }),
        );
      }
    },
  };
};
