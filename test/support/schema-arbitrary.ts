// fast-check arbitraries from the JSON schemas of an OpenAPI document: values the schema
// allows (the valid inputs a client written from the spec may send), and values it does not
// (a required member missing, a member of the wrong type, a member it does not list, a body
// that is not an object), for property tests against a real server.
import fc from 'fast-check';

export interface JsonSchema {
  $ref?: string;
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  enum?: readonly unknown[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
}

/** Values for a member by its name, to reach the server's business rules as well as its refusals. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/** Mostly one of `usual`, now and then one of `unusual`: values that pass a business rule, and some that do not. */
export function mostly<T>(usual: readonly T[], unusual: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: fc.constantFrom(...unusual) });
}

/** Unicode text of any kind (well-formed: the input boundary's refusals of malformed text are tested elsewhere). */
export const anyText = fc.string({ unit: 'grapheme', maxLength: 24 });

/** A value `schema` allows; `hints` choose members' values by name (mixed with arbitrary ones of the right type). */
export function allowedValue(schema: JsonSchema, resolve: (ref: string) => JsonSchema, hints: Hints = {}): fc.Arbitrary<unknown> {
  if (schema.$ref) return allowedValue(resolve(schema.$ref), resolve, hints);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const members = Object.fromEntries(
        Object.entries(properties).map(([name, member]) => {
          const own = allowedValue(member, resolve, {});
          const hint = hints[name];
          return [name, hint ? fc.oneof({ weight: 9, arbitrary: hint }, { weight: 1, arbitrary: own }) : own];
        }),
      );
      return fc.record(members, { requiredKeys: [...(schema.required ?? [])] });
    }
    case 'string':
      return anyText;
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schema.items ? allowedValue(schema.items, resolve, hints) : fc.anything(), { maxLength: 3 });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A JSON value of another type than `type`. */
function otherType(type: JsonSchema['type']): fc.Arbitrary<unknown> {
  const all: Array<[NonNullable<JsonSchema['type']> | 'null', fc.Arbitrary<unknown>]> = [
    ['string', anyText],
    ['integer', fc.integer()],
    ['boolean', fc.boolean()],
    ['object', fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 })],
    ['array', fc.array(fc.integer(), { maxLength: 2 })],
    ['null', fc.constant(null)],
  ];
  return fc.oneof(...all.filter(([name]) => name !== type && !(type === 'number' && name === 'integer')).map(([, value]) => value));
}

/** How a body breaks its schema, for the failure message. */
export interface Broken {
  body: unknown;
  how: string;
}

/**
 * A body the object schema `schema` does not allow, made from an allowed one: a required
 * member removed, a member of another type (or outside its enum), an unlisted member added,
 * or no object at all.
 */
export function refusedBody(
  schema: JsonSchema,
  resolve: (ref: string) => JsonSchema,
  options: {
    hints?: Hints /** Members the server takes beyond the schema's (never "unlisted"). */;
    alsoAccepted?: readonly string[] /** Only these ways. */;
    ways?: ReadonlyArray<'unlisted' | 'not_object' | 'missing' | 'wrong_type'>;
  } = {},
): fc.Arbitrary<Broken> {
  const hints = options.hints ?? {};
  const allowedWays = new Set(options.ways ?? ['unlisted', 'not_object', 'missing', 'wrong_type']);
  const object = (schema.$ref ? resolve(schema.$ref) : schema) as JsonSchema;
  const properties = object.properties ?? {};
  const valid = allowedValue(object, resolve, hints) as fc.Arbitrary<Record<string, unknown>>;
  const ways: Array<fc.Arbitrary<Broken>> = [];
  if (allowedWays.has('unlisted')) {
    ways.push(
      fc
        .tuple(valid, fc.stringMatching(/^[a-z][a-z_]{2,12}$/), fc.jsonValue({ maxDepth: 1 }))
        .filter(([, name]) => !(name in properties) && !(options.alsoAccepted ?? []).includes(name))
        .map(([body, name, value]) => ({ body: { ...body, [name]: value }, how: `unlisted member ${name}` })),
    );
  }
  if (allowedWays.has('not_object')) {
    ways.push(
      fc
        .oneof(fc.array(fc.integer(), { maxLength: 2 }), anyText, fc.integer(), fc.constant(null))
        .map((body) => ({ body, how: 'not an object' })),
    );
  }
  const required = object.required ?? [];
  if (allowedWays.has('missing') && required.length > 0) {
    ways.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([body, name]) => {
        const { [name]: _removed, ...rest } = body;
        return { body: rest, how: `required member ${name} missing` };
      }),
    );
  }
  const names = Object.keys(properties);
  if (allowedWays.has('wrong_type') && names.length > 0) {
    ways.push(
      fc.tuple(valid, fc.constantFrom(...names)).chain(([body, name]) => {
        const member = properties[name]!.$ref ? resolve(properties[name]!.$ref!) : properties[name]!;
        const wrong = member.enum
          ? fc.oneof(
              otherType(member.type),
              anyText.filter((text) => !member.enum!.includes(text)),
            )
          : otherType(member.type);
        return wrong.map((value) => ({ body: { ...body, [name]: value }, how: `member ${name} = ${JSON.stringify(value)}` }));
      }),
    );
  }
  return fc.oneof(...ways);
}
