import fc from 'fast-check';
import { canonicalJson } from '../../lib/evidence/canonical-json';
import { documentFacts, findInJson, findInPath, findInQuery, findInRawBody } from '../../lib/input/request-input';
import { escapeForEvidence, safeJson, textProblem } from '../../lib/input/unsafe-text';

describe('text the service refuses to carry', () => {
  it('checklist 64: names lone surrogates, NUL and controls, and accepts any other well-formed text', () => {
    expect(textProblem('\ud800', 'text')).toBe('lone_surrogate');
    expect(textProblem('a\udc00', 'line')).toBe('lone_surrogate');
    expect(textProblem('😀', 'line')).toBeUndefined();
    expect(textProblem('a\u0000', 'text')).toBe('nul');
    for (const control of ['\u0001', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\u2028', '\u2029']) {
      expect([control.charCodeAt(0), textProblem(`x${control}`, 'text'), textProblem(control, 'line')]).toEqual([
        control.charCodeAt(0),
        'control_character',
        'control_character',
      ]);
    }
    // Free text may span lines; names, ids and path segments may not.
    expect(textProblem('a\tb\nc\r', 'text')).toBeUndefined();
    expect(textProblem('a\tb', 'line')).toBe('control_character');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const clean = [...value].every((char) => {
          const code = char.codePointAt(0)!;
          return !(code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029);
        });
        return (textProblem(value, 'line') === undefined) === clean;
      }),
    );
  });

  it('checklist 64: escapes any value into printable ASCII that canonical JSON and hashes can always take', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }), (value) => {
        const escaped = escapeForEvidence(value);
        expect(escaped).toMatch(/^[\x20-\x7e]*$/);
        expect(() => canonicalJson({ value: escaped })).not.toThrow();
        expect(() => canonicalJson(safeJson({ [value]: [value, { value }] }))).not.toThrow();
      }),
    );
    expect(escapeForEvidence('a\ud800\u0000\\')).toBe('a\\ud800\\u0000\\u005c');
    expect(escapeForEvidence('x'.repeat(500))).toHaveLength(123);
  });

  it('checklist 64: finds the field at fault in JSON, paths, query strings, raw bodies and document literals', () => {
    expect(findInJson({ a: [{ b: 'ok' }, { c: 'x\u0000' }] }, '')).toMatchObject({ field: 'a[1].c', problem: 'nul' });
    expect(findInJson({ 'k\ud800': 1 }, 'variables')).toMatchObject({ field: 'variables.k\\ud800', problem: 'lone_surrogate' });
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(findInJson({ x: deep }, '')).toMatchObject({ problem: 'too_deep' });
    expect(findInPath('/v1/tenants/%ED%A0%80')).toMatchObject({ field: 'path', problem: 'invalid_utf8' });
    expect(findInPath('/v1/tenants/a%C2%85')).toMatchObject({ field: 'path', problem: 'control_character' });
    expect(findInPath('/v1/tenants/%C3%A9t%C3%A9')).toBeUndefined();
    expect(findInQuery('tenant=ok&limit=1%00')).toMatchObject({ field: 'query parameter limit', problem: 'nul' });
    expect(findInQuery('prefix=a+b%20c')).toBeUndefined();
    expect(findInRawBody(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({ problem: 'invalid_utf8' });
    expect(findInRawBody(Buffer.from('{"a":"é"}'))).toBeUndefined();
    expect(documentFacts('{ tenant(id: "a\\u0000") { id } }', 1000)).toMatchObject({
      kind: 'parsed',
      literal: { field: 'argument id', problem: 'nul' },
    });
    expect(documentFacts('mutation { x(input: { name: "\\u0085" }) }', 1000)).toMatchObject({ literal: { field: 'argument input.name' } });
    expect(documentFacts('{ t(id: "\\ud800") }', 1000)).toMatchObject({ kind: 'syntax', literal: { problem: 'lone_surrogate' } });
    expect(documentFacts('{ t(', 1000)).toMatchObject({ kind: 'syntax', literal: undefined });
    expect(documentFacts(`{ ${'a '.repeat(50)} }`, 10)).toEqual({ kind: 'too_long' });
    expect(documentFacts('query A { a } subscription B { b }', 1000)).toMatchObject({
      operations: [
        { name: 'A', type: 'query' },
        { name: 'B', type: 'subscription' },
      ],
    });
  });
});
