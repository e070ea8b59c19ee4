/**
 * Characters no object key may hold: C0 controls (NUL included), DEL, C1 controls
 * (U+0080–U+009F, e.g. U+0085 NEXT LINE) and the Unicode line and paragraph separators
 * U+2028/U+2029. Each can end a line in some reader of logs, listings or evidence, or is
 * invisible there, so a key holding one would show as another key.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Object keys (docs/storage.md): 1..1024 UTF-8 bytes, no control characters (see CONTROL),
 * no backslash, no `.`/`..` segments. The gateway checks this before a request leaves it,
 * and the data plane again for every key it is given.
 */
export function objectKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'the object key is empty';
  if (Buffer.byteLength(key, 'utf8') > 1024) return 'the object key is longer than 1024 bytes';
  if (key.includes('\0')) return 'the object key contains NUL';
  if (key.includes('\\')) return 'the object key contains a backslash';
  if (CONTROL.test(key)) return 'the object key contains control characters';
  if (key.split('/').some((segment) => segment === '..' || segment === '.')) return 'the object key contains a . or .. segment';
  return undefined;
}
