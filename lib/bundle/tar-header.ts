/**
 * The header of a file in a deterministic tar archive (POSIX ustar: regular files only,
 * mode 0644, owner 0, mtime 0), as stream-bundle.ts writes bundles. `tar -xzf` unpacks
 * such archives; `readTarGz` reads them back.
 *
 * A ustar size field holds at most 8 GiB - 1 (eleven octal digits); events.jsonl of a
 * ten-million-event bundle is larger. Such a file gets a POSIX pax extended header with
 * its `size` before its ustar header (pax.2001, as GNU tar and bsdtar write and read it),
 * and the ustar field carries the same size in GNU's base-256 form for readers that know
 * that form but not pax.
 */

/** Size of a tar block: headers, file data (padded) and the end marker are made of them. */
export const TAR_BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\u0000`;
}

/** Largest size a ustar header's eleven octal digits hold. */
export const MAX_OCTAL_SIZE = 0o77777777777;

/** GNU base-256: the first byte's high bit set, the value big-endian in the rest. */
function writeBase256(header: Buffer, offset: number, length: number, value: number): void {
  let rest = BigInt(value);
  for (let index = offset + length - 1; index > offset; index -= 1) {
    header[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  header[offset] = 0x80;
}

/** One pax record, `<length> <key>=<value>\n`, whose length counts its own digits. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

/**
 * The header (or headers) of a regular file: one ustar block, preceded by a pax extended
 * header when the size does not fit the ustar field.
 */
export function tarHeader(name: string, size: number): Buffer {
  if (size <= MAX_OCTAL_SIZE) return ustarHeader(name, size, '0');
  const records = Buffer.from(paxRecord('size', String(size)), 'utf8');
  const padded = Buffer.alloc(Math.ceil(records.length / TAR_BLOCK) * TAR_BLOCK);
  records.copy(padded);
  return Buffer.concat([ustarHeader(`PaxHeader/${name.slice(-80)}`, records.length, 'x'), padded, ustarHeader(name, size, '0')]);
}

/** A ustar header; names over 100 bytes are split into prefix and name at a `/`. */
function ustarHeader(name: string, size: number, type: '0' | 'x'): Buffer {
  const header = Buffer.alloc(TAR_BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = cut > 0 ? name.slice(0, cut) : '';
    base = cut > 0 ? name.slice(cut + 1) : name;
    if (!prefix || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`"${name}" is too long for a ustar header`);
    }
  }
  field(header, 0, 100, base);
  field(header, 100, 8, octal(0o644, 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  if (size <= MAX_OCTAL_SIZE) field(header, 124, 12, octal(size, 12));
  else writeBase256(header, 124, 12, size);
  field(header, 136, 12, octal(0, 12));
  header.fill(0x20, 148, 156);
  header[156] = type.charCodeAt(0); // '0': regular file, 'x': pax extended header
  field(header, 257, 8, 'ustar\u000000');
  field(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\u0000 `);
  return header;
}
