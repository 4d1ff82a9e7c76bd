/**
 * What the stack benchmarks (realtime fan-out, dashboard queries, stack
 * start) share: a throwaway data dir, `pnpm dev` as a child process and its
 * banner, keys and members arranged with SQL (the shared test template is
 * not there outside vitest), supabase-js as OmniDash makes it, and the
 * targets' wording.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runningEmbeddedPort, type Sql } from '@omnihub/database';
import { startProcess, tsxCommand, type RunningProcess } from '@omnihub/database/testing';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { latencyPercentiles, type Measurement, type Target } from './measure.ts';

/** A fresh directory under the system's temp dir; remove() deletes it and what it holds. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `omnihub-bench-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A free port p whose p + 1 is free too: `pnpm dev` puts its embedded Postgres on p + 1. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const candidate = await freePort();
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(false));
      probe.listen(candidate + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
}

/** What `pnpm dev` prints when it is ready (the banner's last line). */
export const DEV_READY = /Press Ctrl-C to stop\./;
/** What `pnpm dev` prints before it starts Postgres (the first thing it does). */
export const DEV_STARTING = /Starting Postgres…/;

/**
 * `pnpm dev --skip-build` (scripts/dev.ts under node + tsx, as the pnpm
 * script runs it) on `dataDir` and `port`, ignoring any DATABASE_URL the
 * caller or the repository's .env has: the embedded Postgres, always.
 */
export function spawnDev(dataDir: string, port: number): RunningProcess {
  const [node, args] = tsxCommand('scripts/dev.ts');
  return startProcess(node, [...args, '--skip-build'], {
    env: {
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_LOCAL_PORT: String(port),
      // Empty, not unset: loadDotEnv() does not override a variable that is set.
      DATABASE_URL: '',
      OMNIHUB_ADMIN_PASSWORD: undefined,
      OMNIHUB_DASHBOARD_DIR: undefined,
    },
  });
}

/** Ctrl-C, as a terminal would send it, then waits for the exit (SIGKILL after `graceMs`). */
export async function stopDev(dev: RunningProcess, graceMs = 30_000): Promise<number | string> {
  if (dev.child.exitCode !== null || dev.child.signalCode !== null) return dev.exited;
  dev.child.kill('SIGINT');
  const timer = setTimeout(() => dev.child.kill('SIGKILL'), graceMs);
  try {
    return await dev.exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops a Postgres still running on `dataDir` after its `pnpm dev` has gone
 * (one that crashed, or was killed before it could stop it), so a failed
 * run leaves nothing behind. Postgres's own postmaster.pid names it; there
 * is no event for a process that is not this one's child, so it is looked at
 * until it is gone. Returns whether there was one.
 */
export async function stopLeftoverPostgres(dataDir: string): Promise<boolean> {
  if (runningEmbeddedPort(dataDir) === null) return false;
  const pid = Number(
    readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  process.kill(pid, 'SIGINT'); // fast shutdown
  const deadline = performance.now() + 30_000;
  while (runningEmbeddedPort(dataDir) !== null) {
    if (performance.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The parts of `pnpm dev`'s banner the benchmarks use. */
export interface DevBanner {
  apiUrl: string;
  anonKey: string;
  portUrl: string;
  /** The embedded Postgres, as its superuser. */
  databaseUrl: string;
  /** Demo API keys by source (tenant "demo", all scopes). */
  demoKeys: Record<string, string>;
}

export function readDevBanner(output: string): DevBanner {
  const field = (pattern: RegExp) => {
    const match = output.match(pattern);
    if (!match) throw new Error(`pnpm dev's banner has no ${pattern}:\n${output}`);
    return match[1]!;
  };
  return {
    apiUrl: field(/API URL +(\S+)/),
    anonKey: field(/anon key +(\S+)/),
    portUrl: field(/OmniLink Port +(\S+)/),
    databaseUrl: field(/Database +(\S+)/),
    demoKeys: Object.fromEntries(
      [...output.matchAll(/^ {4}([a-z-]+) +(omni\.[a-z0-9]+\.[A-Za-z0-9_-]+)$/gm)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    ),
  };
}

/** A tenant (made if new), an integration of `source` in it and a key with the task and event scopes. */
export { issueBenchPortKey as issueBenchKey } from './port-stack.ts';

export interface BenchUser {
  id: string;
  email: string;
  password: string;
}

/**
 * A user who can sign in with email and password, a member of `tenantId`
 * with `role` (as the test stack's createUser does; bcrypt cost 4, since a
 * benchmark signs in many).
 */
export async function insertMember(
  sql: Sql,
  tenantId: string,
  role: 'viewer' | 'operator' | 'admin',
): Promise<BenchUser> {
  const email = `bench-${crypto.randomUUID()}@example.test`;
  const password = `pw-${crypto.randomUUID()}`;
  const [user] = await sql`
    insert into auth.users (email, encrypted_password, email_confirmed_at)
    values (${email}, extensions.crypt(${password}, extensions.gen_salt('bf', 4)), now())
    returning id`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenantId}, ${user!.id}, ${role})`;
  return { id: user!.id as string, email, password };
}

/**
 * The real supabase-js client as OmniDash makes it (anon key), with the ws
 * transport Node 20 needs for Realtime, signed in as `user` through the
 * stack's auth. Realtime is given the session's token before returning:
 * supabase-js hands it over asynchronously, and a channel joined before
 * would join as anon.
 */
export async function signedInClient(
  apiUrl: string,
  anonKey: string,
  user: BenchUser,
): Promise<SupabaseClient> {
  const client = createClient(apiUrl, anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { data, error } = await client.auth.signInWithPassword({
    email: user.email,
    password: user.password,
  });
  if (error || !data.session) throw new Error(`sign-in failed: ${error?.message ?? 'no session'}`);
  await client.realtime.setAuth(data.session.access_token);
  return client;
}

/** A latency target on one row: `which` percentile ≤ `limitMs`. */
export function latencyTarget(
  what: string,
  m: Measurement,
  which: 'p50' | 'p95',
  limitMs: number,
): Target {
  const value = latencyPercentiles(m)[which];
  return {
    what: `${what}: ${which} ≤ ${limitMs} ms`,
    measured: `${which} ${value.toFixed(1)} ms`,
    met: value <= limitMs,
  };
}

/** Resolves with `promise`, or rejects with `message` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
