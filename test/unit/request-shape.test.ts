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

  it.each(['https://evidence.example.eu/a', 'https://8.8.8.8/x', 'https://[2001:4860:4860::8888]/'])('accepts %s', (url) => {
    expect(isPublicHttpsUrl(url)).toBe(true);
  });
});
