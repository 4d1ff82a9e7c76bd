export { connectDatabase, redactDatabaseUrl, type Sql } from './connect.ts';
export {
  embeddedDatabaseUrl,
  runningEmbeddedPort,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
  type EmbeddedPostgresOptions,
} from './embedded-postgres.ts';
export { freePort } from './free-port.ts';
export { listMigrations, migrateDatabase, type MigrationFile } from './migrate.ts';
export { MIGRATIONS_DIR, PLATFORM_SHIM_FILE, REPO_ROOT, SEED_FILE } from './paths.ts';
