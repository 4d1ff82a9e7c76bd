export { createTestDatabase, type TestDatabase } from './database.ts';
export { issueKey, snapshotCounts, type IssuedKey } from './fixtures.ts';
