import {
  connectDatabase,
  embeddedDatabaseUrl,
  migrateDatabase,
  runningEmbeddedPort,
  startEmbeddedPostgres,
  type Sql,
} from '@omnihub/database';
import type { LocalSettings } from './settings.ts';

export interface OpenDatabase {
  sql: Sql;
  close(): Promise<void>;
}

/**
 * The database `pnpm dev` uses, for one-off commands: DATABASE_URL when set;
 * else the embedded cluster, reused if `pnpm dev` is running, or started
 * just for this command (and brought up to date) when it is not.
 */
export async function openLocalDatabase(settings: LocalSettings): Promise<OpenDatabase> {
  if (settings.databaseUrl) {
    const sql = connectDatabase(settings.databaseUrl, { max: 2, applicationName: 'omnihub-cli' });
    await assertSchema(sql);
    return { sql, close: () => sql.end({ timeout: 2 }) };
  }
  const runningPort = runningEmbeddedPort(settings.dataDir);
  if (runningPort !== null) {
    const sql = connectDatabase(embeddedDatabaseUrl(runningPort), {
      max: 2,
      applicationName: 'omnihub-cli',
    });
    return { sql, close: () => sql.end({ timeout: 2 }) };
  }
  const postgres = await startEmbeddedPostgres({
    dataDir: settings.dataDir,
    port: settings.port + 1,
  });
  const sql = connectDatabase(postgres.url, { max: 2, applicationName: 'omnihub-cli' });
  try {
    await migrateDatabase(sql, { seed: true });
  } catch (error) {
    await sql.end();
    await postgres.stop();
    throw error;
  }
  return {
    sql,
    async close() {
      await sql.end({ timeout: 2 });
      await postgres.stop();
    },
  };
}

async function assertSchema(sql: Sql): Promise<void> {
  const [row] =
    await sql`select to_regprocedure('omnilink.issue_api_key(uuid,text[],integer,timestamptz,text,uuid)') is not null as ready`;
  if (!row?.ready) {
    await sql.end();
    throw new Error(
      'The database in DATABASE_URL has no OmniHub schema. Run `pnpm dev` once against it, or `supabase db push` for a Supabase project.',
    );
  }
}
