// Jest projects: `unit` and `integration` (in-process stack, embedded database) and
// `e2e` (real processes) make up `npm test`; `postgres` runs the integration and e2e
// suites again against a PostgreSQL server (a fresh database per test file); `faults` kills
// and restarts real processes and databases.

// ESM-only packages that must be transformed to CommonJS for jest.
// PGlite's CommonJS build uses dynamic import(), which jest only supports when transformed.
const esmPackages = ['jose', 'graphql-ws', 'canonicalize', '@prisma/schema-engine-wasm', '@electric-sql/pglite'];
const base = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj|cj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  // Suites start whole stacks (PGlite, five planes, TLS); the machine is small and shared.
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'] },
    {
      ...base,
      displayName: 'postgres',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.e2e.ts', '<rootDir>/test/postgres/**/*.test.ts'],
      // Prism checks the HTTP contract against the OpenAPI skeleton, which no database changes:
      // once, on the embedded database, is enough (rest-conformance runs here too).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/prism-proxy\\.e2e\\.ts$'],
      setupFiles: ['<rootDir>/test/support/use-postgres.ts'],
    },
    // Slow fault tests with real processes that are killed or lose their database
    // (`npm run test:faults`, its own CI step).
    { ...base, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.fault.ts'] },
  ],
};
