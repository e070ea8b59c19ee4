/**
 * The source of the worker threads that walk and hash the subdirectories of a bundle
 * directory (subdirectory-hashing.ts). Plain JavaScript using only Node's own modules,
 * started from source, so that it runs the same under any TypeScript loader.
 *
 * Each worker walks every subdirectory (without following links, refusing special files
 * and nesting deeper than `maxDepth`) and hashes the files of its share (a hash of the
 * name, modulo `parts`), with synchronous calls into one reused buffer: faster than the
 * promise API for small files, and off the main thread, which meanwhile checks the
 * events. It writes one line per file, `["<name>",<size>,"<hex sha256>"]`, to `output`,
 * then posts `{ done: true, hashed }` (the lines written), or `{ refusal: { reason, name,
 * code? } }` at the first file it must refuse.
 */
export const SUBDIRECTORY_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { createHash } = require('node:crypto');
const { root, directories, part, parts, output, maxFileBytes, maxFiles, maxDepth } = workerData;
const OPEN = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const scratch = Buffer.allocUnsafe(64 * 1024);
const out = fs.openSync(output, 'wx');
let lines = [];
let length = 0;
let files = 0;
let hashed = 0;

class Refusal extends Error {
  constructor(reason, name, code) {
    super(reason);
    this.refusal = { reason, name, code };
  }
}

function share(name) {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index += 1) hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % parts;
}

function flush() {
  if (lines.length > 0) fs.writeSync(out, lines.join(''));
  lines = [];
  length = 0;
}

function hashFile(name) {
  let fd;
  try {
    fd = fs.openSync(path.join(root, name), OPEN);
  } catch (error) {
    throw new Refusal(error.code === 'ELOOP' ? 'symlink' : 'unreadable', name, error.code);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Refusal('special', name);
    if (stat.size > maxFileBytes) throw new Refusal('large', name);
    const digest = createHash('sha256');
    for (let offset = 0; offset < stat.size; ) {
      const read = fs.readSync(fd, scratch, 0, Math.min(scratch.length, stat.size - offset), offset);
      if (read === 0) throw new Refusal('changed', name);
      digest.update(scratch.subarray(0, read));
      offset += read;
    }
    return [stat.size, digest.digest('hex')];
  } finally {
    fs.closeSync(fd);
  }
}

function kindOf(name, entry) {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symlink';
  const stat = fs.lstatSync(path.join(root, name));
  return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'special';
}

function walk(relative, depth) {
  if (depth > maxDepth) throw new Refusal('deep', relative);
  const dir = fs.opendirSync(path.join(root, relative), { bufferSize: 256 });
  try {
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      const name = relative + '/' + entry.name;
      const kind = kindOf(name, entry);
      if (kind === 'symlink' || kind === 'special') throw new Refusal(kind, name);
      if (kind === 'directory') {
        walk(name, depth + 1);
        continue;
      }
      files += 1;
      if (files > maxFiles) throw new Refusal('files', name);
      if (share(name) !== part) continue;
      const [size, digest] = hashFile(name);
      const line = JSON.stringify([name, size, digest]) + '\\n';
      lines.push(line);
      hashed += 1;
      length += line.length;
      if (length > 64 * 1024) flush();
    }
  } finally {
    dir.closeSync();
  }
}

try {
  for (const directory of directories) walk(directory, 1);
  flush();
  parentPort.postMessage({ done: true, hashed });
} catch (error) {
  parentPort.postMessage({ refusal: error.refusal || { reason: 'unreadable', name: error.path || root, code: error.code } });
} finally {
  fs.closeSync(out);
}
`;
