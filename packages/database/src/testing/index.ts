export { createTestDatabase, type TestDatabase } from './database.ts';
export { issueKey, snapshotCounts, type IssuedKey } from './fixtures.ts';
export { startProcess, tsxCommand, type RunningProcess } from './process.ts';
