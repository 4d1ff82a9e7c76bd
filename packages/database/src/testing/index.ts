export { createTestDatabase, type TestDatabase } from './database.ts';
export { issueKey, snapshotCounts, type IssuedKey } from './fixtures.ts';
export { DENO_BINARY, startProcess, tsxCommand, type RunningProcess } from './process.ts';
