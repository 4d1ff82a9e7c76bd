/**
 * The OmniHub scheduler as a Supabase Edge Function: each POST fires the
 * schedules that are due (packages/scheduler). pg_cron calls it every
 * minute through pg_net (README, "Running on Supabase"). Deploy with
 * `supabase functions deploy omnilink-scheduler --no-verify-jwt --use-api`.
 *
 * Ticks are safe to repeat and to overlap: a due time creates one task
 * however many calls reach it, so a retried or doubled cron call is harmless.
 */
import { tickSchedules } from '@omnihub/scheduler';
import postgres from 'postgres';

const databaseUrl = Deno.env.get('OMNIHUB_DATABASE_URL') ?? Deno.env.get('SUPABASE_DB_URL');
const secret = Deno.env.get('OMNIHUB_SCHEDULER_SECRET');
if (!databaseUrl) {
  throw new Error(
    'Set SUPABASE_DB_URL (Supabase sets it for Edge Functions) or OMNIHUB_DATABASE_URL.',
  );
}
if (!secret || secret.length < 32) {
  throw new Error(
    'Set OMNIHUB_SCHEDULER_SECRET (at least 32 characters): the bearer token pg_cron sends.',
  );
}

const sql = postgres(databaseUrl, {
  prepare: false,
  max: 2,
  onnotice: () => {},
  connection: { TimeZone: 'UTC', application_name: 'omnilink-scheduler' },
});

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** Compares digests, so the time taken says nothing about how much of the secret matched. */
async function isSecret(token: string): Promise<boolean> {
  const [given, expected] = await Promise.all([sha256(token), sha256(secret!)]);
  let difference = 0;
  for (let i = 0; i < expected.length; i += 1) difference |= given[i]! ^ expected[i]!;
  return difference === 0;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

async function handle(request: Request): Promise<Response> {
  if (request.method !== 'POST') {
    return json(405, { error: 'method_not_allowed', message: 'POST to run a scheduler tick.' });
  }
  const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!token || !(await isSecret(token))) {
    return json(401, {
      error: 'unauthorized',
      message: 'Send Authorization: Bearer <OMNIHUB_SCHEDULER_SECRET>.',
    });
  }
  try {
    return json(200, await tickSchedules(sql));
  } catch (error) {
    console.error(
      JSON.stringify({ level: 'error', msg: 'schedule tick failed', error: String(error) }),
    );
    return json(500, {
      error: 'internal',
      message: 'The tick failed; the next one will try again.',
    });
  }
}

// Supabase's runtime chooses the port itself; OMNILINK_LISTEN_PORT is for running this file under plain Deno (tests).
const listenPort = Deno.env.get('OMNILINK_LISTEN_PORT');
Deno.serve(listenPort ? { port: Number(listenPort), hostname: '127.0.0.1' } : {}, handle);
