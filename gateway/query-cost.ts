import { Kind, getNamedType, isObjectType, isInterfaceType } from 'graphql';
import type {
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
  VariableDefinitionNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/graphql/page-size';

/**
 * Fields whose work does not show in their selection: each reads a whole tenant chain (or a
 * range of it, up to millions of events) or starts a background job over one. The estimate
 * adds this weight to the field's own cost, so the default limit (50,000) admits at most four
 * of them in one document, and any query with one is expensive (see `EXPENSIVE_COST`).
 */
export const FIELD_COSTS: Readonly<Record<string, number>> = {
  /** Reads and re-hashes every event of the range, and each event's decision record. */
  'Query.verifyChain': 10_000,
  /** Reads every event hash of the chain for the Merkle root. */
  'Query.chainHead': 10_000,
  /** Read `treeSize` / `toSize` event hashes (default: the whole chain). */
  'Query.inclusionProof': 10_000,
  'Query.consistencyProof': 10_000,
  /** Counts the range; a worker then reads all of it (and again for every download). */
  'Mutation.requestEvidenceExport': 10_000,
};

/**
 * A query estimated at this cost or more is expensive: it counts against the per-principal
 * limit of expensive operations in flight (cost-limit.ts). That is any query with a field of
 * `FIELD_COSTS`, or list pages of several hundred objects (a page of 1,000 events with the
 * whole envelope is about 50,000, the REST listing of 1,000 events about 11,000).
 */
export const EXPENSIVE_COST = 10_000;

const SCALAR_COST = 1;
const OBJECT_COST = 2;
/** Each level of nesting weighs the selections below it this much more. */
const DEPTH_FACTOR = 1.5;
const PAGE_ARGUMENTS = ['first', 'last'];

export interface CostInput {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  /** The request's variable values: a page size given as `$first` counts with its value. */
  variables?: Readonly<Record<string, unknown>>;
}

/**
 * graphql-armor's estimate (scalars 1, objects 2, each level 1.5 times the one above,
 * fragments flattened, a list multiplied by its `first`/`last`) with four changes: a page
 * size from a variable counts with its value (armor counts literals only, so `first: $n`
 * cost as much as one object), a paged field given no size counts as the default page of
 * 100 (what the service returns), a size counts at most as the largest page (1,000; larger
 * ones are refused unread), and the fields of `FIELD_COSTS` add their weight. Expects a
 * validated document (no fragment cycles, every field known).
 */
export function operationCost({ schema, operation, fragments, variables = {} }: CostInput): number {
  const definitions = new Map<string, VariableDefinitionNode>(
    (operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition]),
  );
  const intValue = (value: ValueNode): number | undefined => {
    if (value.kind === Kind.INT) return Number.parseInt(value.value, 10);
    if (value.kind !== Kind.VARIABLE) return undefined;
    const given = variables[value.name.value];
    if (typeof given === 'number') return given;
    const fallback = definitions.get(value.name.value)?.defaultValue;
    return given === undefined && fallback ? intValue(fallback) : undefined;
  };
  // Each fragment is costed once: spreads nested in spreads would otherwise be walked
  // exponentially often.
  const fragmentCosts = new Map<string, number>();
  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        cost += selectionCost(selection.selectionSet, type);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (!fragment) continue;
        if (!fragmentCosts.has(name)) {
          fragmentCosts.set(name, selectionCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value)));
        }
        cost += fragmentCosts.get(name)!;
      } else {
        const field = fieldOf(parent, selection.name.value);
        const weight = parent && field ? (FIELD_COSTS[`${parent.name}.${field.name}`] ?? 0) : 0;
        if (!selection.selectionSet) {
          cost += SCALAR_COST + weight;
          continue;
        }
        const given = selection.arguments?.find((argument) => PAGE_ARGUMENTS.includes(argument.name.value));
        const paged = field?.args.some((argument) => PAGE_ARGUMENTS.includes(argument.name)) ?? false;
        const size = given ? (intValue(given.value) ?? DEFAULT_PAGE_SIZE) : paged ? DEFAULT_PAGE_SIZE : 1;
        const children = selectionCost(selection.selectionSet, field ? getNamedType(field.type) : undefined);
        // A size outside 1..1,000 is refused by the plane (ECS_INVALID_PAGE_SIZE) before it reads anything.
        cost += weight + Math.min(Math.max(1, size), MAX_PAGE_SIZE) * (OBJECT_COST + DEPTH_FACTOR * children);
      }
    }
    return cost;
  };
  return selectionCost(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}

function fieldOf(parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
}
