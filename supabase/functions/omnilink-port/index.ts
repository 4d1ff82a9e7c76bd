/**
 * The OmniLink Port as a Supabase Edge Function. Deploy with
 * `supabase functions deploy omnilink-port --no-verify-jwt --use-api`
 * (--use-api bundles the shared packages outside supabase/).
 */
import { reconnectBackoff } from '@omnihub/contracts';
import { createPortApp, TaskSignals } from '@omnihub/port';
import postgres from 'postgres';

const databaseUrl = Deno.env.get('OMNIHUB_DATABASE_URL') ?? Deno.env.get('SUPABASE_DB_URL');
if (!databaseUrl) {
  throw new Error(
    'Set SUPABASE_DB_URL (Supabase sets it for Edge Functions) or OMNIHUB_DATABASE_URL.',
  );
}

const sql = postgres(databaseUrl, {
  // Safe behind Supabase's transaction pooler, which cannot keep prepared statements.
  prepare: false,
  // Each isolate keeps a few connections; many isolates share the database.
  max: 5,
  backoff: reconnectBackoff,
  onnotice: () => {},
  connection: { TimeZone: 'UTC', application_name: 'omnilink-port' },
});

const app = createPortApp({
  sql,
  env: { OMNILINK_ENABLED: Deno.env.get('OMNILINK_ENABLED') },
  signals: await TaskSignals.listen(sql),
});

// Supabase's runtime chooses the port itself; OMNILINK_LISTEN_PORT is for running this file under plain Deno (tests).
const listenPort = Deno.env.get('OMNILINK_LISTEN_PORT');
Deno.serve(listenPort ? { port: Number(listenPort), hostname: '127.0.0.1' } : {}, app.fetch);
