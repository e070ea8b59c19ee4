/**
 * The header of a file in a deterministic tar archive (POSIX ustar: regular files only,
 * mode 0644, owner 0, mtime 0), as stream-bundle.ts writes bundles. `tar -xzf` unpacks
 * such archives; `readTarGz` reads them back.
 */

/** Size of a tar block: headers, file data (padded) and the end marker are made of them. */
export const TAR_BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\u0000`;
}

/** A ustar header; names over 100 bytes are split into prefix and name at a `/`. */
export function tarHeader(name: string, size: number): Buffer {
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
  field(header, 124, 12, octal(size, 12));
  field(header, 136, 12, octal(0, 12));
  header.fill(0x20, 148, 156);
  header[156] = 0x30; // '0': regular file
  field(header, 257, 8, 'ustar\u000000');
  field(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\u0000 `);
  return header;
}
