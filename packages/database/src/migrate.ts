import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from './connect.ts';
import { MIGRATIONS_DIR, PLATFORM_SHIM_FILE, SEED_FILE } from './paths.ts';

const MIGRATION_FILE = /^(\d{14})_([a-z0-9_]+)\.sql$/;
// Any fixed number: serialises concurrent migrators on one database.
const MIGRATION_LOCK = 7_272_727;

export interface MigrationFile {
  version: string;
  name: string;
  path: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  return files.map((file) => {
    const match = MIGRATION_FILE.exec(file);
    if (!match)
      throw new Error(`Migration ${file} is not named YYYYMMDDHHMMSS_snake_description.sql.`);
    return { version: match[1]!, name: match[2]!, path: join(dir, file) };
  });
}

/**
 * Brings a database up to date the way the Supabase CLI does: the platform
 * shim first (a no-op on Supabase), then each pending migration in its own
 * transaction, recorded in supabase_migrations.schema_migrations.
 */
export async function migrateDatabase(
  sql: Sql,
  options: { seed?: boolean } = {},
): Promise<string[]> {
  const conn = await sql.reserve();
  const applied: string[] = [];
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await runScript(conn, PLATFORM_SHIM_FILE);
    await conn.unsafe(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text
      );
    `);
    const done = new Set(
      (await conn`select version from supabase_migrations.schema_migrations`).map(
        (row) => row.version as string,
      ),
    );
    for (const migration of await listMigrations()) {
      if (done.has(migration.version)) continue;
      await conn.unsafe('begin');
      try {
        await runScript(conn, migration.path);
        await conn`insert into supabase_migrations.schema_migrations (version, name) values (${migration.version}, ${migration.name})`;
        await conn.unsafe('commit');
      } catch (error) {
        await conn.unsafe('rollback');
        throw error;
      }
      applied.push(`${migration.version}_${migration.name}`);
    }
    if (options.seed) await runScript(conn, SEED_FILE);
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    conn.release();
  }
  return applied;
}

/** Runs a SQL file; a failure names the file and line. */
async function runScript(conn: Sql, path: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  try {
    await conn.unsafe(text);
  } catch (error) {
    const position = Number((error as { position?: string }).position);
    const line = Number.isFinite(position) ? text.slice(0, position).split('\n').length : undefined;
    const where = line ? `${path}:${line}` : path;
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
