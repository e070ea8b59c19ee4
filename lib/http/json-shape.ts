/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * What is wrong with the shape of a JSON text, if anything: nesting deeper than `maxDepth`
 * or an object that names a key twice (`JSON.parse` would silently keep the last one, so two
 * readers of one body could disagree). One pass over the text, no parsing of values; a text
 * that is not JSON is left to `JSON.parse` to report.
 */
export function jsonShapeProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const keys: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      const top = keys[keys.length - 1];
      if (expectKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return undefined;
        }
        if (top.has(key)) return `duplicate key ${JSON.stringify(key.slice(0, 64))}`;
        top.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (keys.length >= maxDepth) return `nested deeper than ${maxDepth} levels`;
      keys.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keys.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = keys[keys.length - 1] !== null && keys.length > 0;
    }
  }
  return undefined;
}
