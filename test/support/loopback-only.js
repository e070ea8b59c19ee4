// Preloaded (`node --require`) into a child process that a test runs beside the stack, such as
// the Prism proxy: the suites must work with no network beyond this machine, and a tool that
// quietly fetched a remote schema or reported usage would make them depend on one. A TCP
// connection to anything but the loopback interface is refused, and reported on stderr with a
// line of its own (REFUSED), so that the test can fail naming the host.
const net = require('node:net');

const REFUSED = 'loopback-only: refused a connection to';
const LOOPBACK_NAMES = new Set(['localhost', '::1', '0:0:0:0:0:0:0:1']);

function isLoopback(host) {
  if (LOOPBACK_NAMES.has(host)) return true;
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** The target of `socket.connect(...)`, however it was called (options, port and host, normalized arguments). */
function targetOf(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  // As net.Socket does: a non-empty `path` is a Unix socket or named pipe (HTTP agents pass `path: null`).
  if (first !== null && typeof first === 'object') return { path: first.path || undefined, host: first.host, port: first.port };
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { host: typeof args[1] === 'string' ? args[1] : undefined, port: first };
  }
  return { path: first };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectLoopbackOnly(...args) {
  const target = targetOf(args);
  // A Unix socket or named pipe never leaves the machine; a TCP connection without a host goes to localhost.
  if (target.path !== undefined || target.host === undefined || isLoopback(String(target.host))) return connect.apply(this, args);
  const where = `${String(target.host)}:${String(target.port)}`;
  process.stderr.write(`${REFUSED} ${where}\n`);
  process.nextTick(() => this.destroy(new Error(`${REFUSED} ${where}`)));
  return this;
};
