import fc from 'fast-check';
import type { JsonObject } from '../../lib/evidence/canonical-json';
import { Findings } from '../../lib/bundle/findings';
import { parseObject } from '../../lib/bundle/read-documents';
import { SegmentReader } from '../../lib/bundle/segment-reader';
import { TempSpace } from '../../lib/bundle/temp-space';

/** What the streaming reader makes of `bytes` fed in pieces of the given sizes. */
async function streamed(
  bytes: Buffer,
  pieces: number[],
  space: TempSpace,
): Promise<{ object?: JsonObject; entries?: unknown[]; detail: string }> {
  const reader = new SegmentReader(space, 1024 * 1024);
  let offset = 0;
  for (let index = 0; offset < bytes.length; index += 1) {
    const size = Math.max(1, pieces[index % pieces.length] ?? bytes.length);
    reader.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  const findings = new Findings();
  const { object, entries } = reader.end(findings, [2, 1]);
  const listed: unknown[] = [];
  if (entries) for await (const batch of entries.batches()) listed.push(...batch);
  return { ...(object ? { object } : {}), ...(entries ? { entries: listed } : {}), detail: findings.check('files', 'ok').detail };
}

/** What parsing the whole file gives, the way the verifier read segments before it streamed them. */
function whole(bytes: Buffer): { object?: JsonObject; entries?: unknown[]; detail: string } {
  const findings = new Findings();
  const parsed = parseObject(bytes, 'chain-segment.json', findings, 'files', [2, 1]);
  const detail = findings.check('files', 'ok').detail;
  if (!parsed) return { detail };
  if (!Array.isArray(parsed.events)) return { object: parsed, detail };
  return { object: { ...parsed, events: [] }, entries: parsed.events, detail };
}

const segment = fc.record({
  segment_id: fc.string(),
  tenant_id: fc.string(),
  events: fc.array(
    fc.oneof(fc.jsonValue(), fc.record({ id: fc.string(), sequence: fc.integer(), prev_hash: fc.constantFrom(null, 'sha256:00') })),
  ),
  segment_hash: fc.string(),
});

/** JSON texts near a segment: pretty or compact, then perhaps cut, spliced, or given odd bytes. */
const texts = fc
  .tuple(
    fc.oneof(
      segment.map((value) => JSON.stringify(value, null, 2)),
      segment.map((value) => JSON.stringify(value)),
      fc.json(),
    ),
    fc.nat(),
    fc.constantFrom('none', 'cut', 'insert', 'delete', 'events-again', 'bom', 'trailing'),
    fc.constantFrom('x', ',', ']', '}', '"', '\\', '\n', '\u00e9', '\uffff', '[', '{', '1e400', '\u0000'),
  )
  .map(([text, at, change, piece]) => {
    const position = text.length === 0 ? 0 : at % text.length;
    if (change === 'cut') return text.slice(0, position);
    if (change === 'insert') return text.slice(0, position) + piece + text.slice(position);
    if (change === 'delete') return text.slice(0, position) + text.slice(position + 1);
    if (change === 'events-again') return text.replace(/}\s*$/, ',"events":[{"again":true}]}');
    if (change === 'bom') return `\ufeff${text}`;
    if (change === 'trailing') return `${text} ${piece}`;
    return text;
  });

describe('the streaming segment reader', () => {
  it('reads every text exactly as JSON.parse of the whole file does, whatever the chunk sizes', async () => {
    const space = new TempSpace('ecs-segment-');
    try {
      await fc.assert(
        fc.asyncProperty(texts, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }), async (text, pieces) => {
          const bytes = Buffer.from(text, 'utf8');
          expect(await streamed(bytes, pieces, space)).toEqual(whole(bytes));
        }),
        { numRuns: 1500, seed: 20261206 },
      );
    } finally {
      await space.remove();
    }
  });

  it('invalid UTF-8 and a large segment that is not valid JSON are reported as such', async () => {
    const space = new TempSpace('ecs-segment-');
    try {
      const broken = Buffer.concat([Buffer.from('{"events":["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]}')]);
      expect(await streamed(broken, [3], space)).toEqual(whole(broken));
      const entry = `{"id":"${'x'.repeat(900)}","sequence":1}`;
      const large = Buffer.from(`{"events":[${Array.from({ length: 20_000 }, () => entry).join(',')},]}`);
      const result = await streamed(large, [65_536], space);
      expect(result).toEqual({
        detail: expect.stringMatching(/^chain-segment\.json is not valid UTF-8 JSON \(expected a value at byte \d+\)$/),
      });
    } finally {
      await space.remove();
    }
  });
});
