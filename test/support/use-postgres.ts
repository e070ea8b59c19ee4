// Jest setup of the `postgres` project: suites create their database on the PostgreSQL
// server (ECS_TEST_POSTGRES_URL, default the local server's `test` database).
process.env.ECS_TEST_POSTGRES = '1';
