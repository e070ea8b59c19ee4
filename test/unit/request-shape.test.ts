import { jsonShapeProblem } from '../../lib/http/json-shape';
import { isPublicHttpsUrl } from '../../lib/http/public-url';

describe('jsonShapeProblem', () => {
  it.each([
    ['{"a":1,"a":2}', 'duplicate key "a"'],
    ['{"a":{"b":1},"a":2}', 'duplicate key "a"'],
    ['{"x":[{"k":1,"k":1}]}', 'duplicate key "k"'],
    ['{"a\\u0062":1,"ab":2}', 'duplicate key "ab"'],
    [`${'['.repeat(65)}${']'.repeat(65)}`, 'nested deeper than 64 levels'],
  ])('checklist 35: %s → %s', (text, problem) => {
    expect(jsonShapeProblem(text)).toBe(problem);
  });

  it.each([
    '{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}',
    '{"s":"a,\\"b\\":{\\"s\\"","b":1}',
    '[{"a":1},{"a":1}]',
    `${'['.repeat(64)}${']'.repeat(64)}`,
    'not json at all',
    '{"a":',
  ])('accepts %s (or leaves it to JSON.parse)', (text) => {
    expect(jsonShapeProblem(text)).toBeUndefined();
  });
});

describe('isPublicHttpsUrl', () => {
  it.each([
    'https://169.254.169.254/',
    'https://[fe80::1]/',
    'https://[fc00::1]/',
    'https://100.64.0.1/',
    'https://224.0.0.1/',
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://intranet/',
    'https://[::ffff:169.254.169.254]/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://printer.local/',
    'https://x.localhost/',
    'http://evidence.example.eu/',
    'https:///x',
    'not a url',
  ])('checklist 32: refuses %s', (url) => {
    expect(isPublicHttpsUrl(url)).toBe(false);
  });

  it.each([
    ['192.0.2.0/24', '192.0.2.1'],
    ['192.0.2.0/24', '192.0.2.255'],
    ['198.51.100.0/24', '198.51.100.7'],
    ['203.0.113.0/24', '203.0.113.200'],
    ['198.18.0.0/15', '198.19.255.1'],
    ['240.0.0.0/4', '250.1.2.3'],
    ['255.255.255.255', '255.255.255.255'],
    ['10.0.0.0/8', '10.1.2.3'],
    ['172.16.0.0/12', '172.31.0.1'],
    ['192.168.0.0/16', '192.168.1.1'],
    ['127.0.0.0/8', '127.0.0.1'],
    ['0.0.0.0/8', '0.1.2.3'],
  ])('refuses an address of %s (%s), also IPv4-mapped and NAT64', (_range, address) => {
    expect(isPublicHttpsUrl(`https://${address}/`)).toBe(false);
    expect(isPublicHttpsUrl(`https://[::ffff:${address}]/`)).toBe(false);
    expect(isPublicHttpsUrl(`https://[64:ff9b::${address}]/`)).toBe(false);
  });

  it.each([
    '2001:db8::1',
    '2001:db8:ffff:ffff::1',
    '2001:2::1',
    '3fff::1',
    '::1',
    '::',
    'fec0::1',
    '100::1',
    '64:ff9b:1::a00:1',
    '::c000:201',
    '2002:c000:201::1',
    '2002:a00:1::1',
  ])('refuses the non-public IPv6 address %s', (address) => {
    expect(isPublicHttpsUrl(`https://[${address}]/`)).toBe(false);
  });

  it('refuses IPv4-mapped documentation addresses in hexadecimal form', () => {
    expect(isPublicHttpsUrl('https://[::ffff:c000:201]/')).toBe(false);
    expect(isPublicHttpsUrl('https://[::ffff:cb00:7101]/')).toBe(false);
    expect(isPublicHttpsUrl('https://[::ffff:c633:6401]/')).toBe(false);
  });

  it.each([
    'https://evidence.example.eu/a',
    'https://8.8.8.8/x',
    'https://192.0.3.1/',
    'https://198.51.101.1/',
    'https://203.0.114.1/',
    'https://[2001:4860:4860::8888]/',
    'https://[2001:db9::1]/',
    'https://[::ffff:8.8.8.8]/',
    'https://[64:ff9b::8.8.8.8]/',
    'https://[2002:808:808::1]/',
  ])('accepts %s', (url) => {
    expect(isPublicHttpsUrl(url)).toBe(true);
  });
});
