import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, freePort, listMigrations } from '@omnihub/database';
import {
  createTestDatabase,
  startProcess,
  tsxCommand,
  type RunningProcess,
} from '@omnihub/database/testing';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const [node, devArgs] = tsxCommand('scripts/dev.ts');
const [, cliArgs] = tsxCommand('scripts/omnihub/main.ts');

let dataDir: string;
let port: number;

/** A port p with p + 1 free too (the embedded Postgres takes p + 1). */
async function portPair(): Promise<number> {
  for (;;) {
    const candidate = await freePort();
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(false));
      probe.listen(candidate + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
}

/** Every dev started, so a failed test cannot leave one holding the port for the next. */
const started: RunningProcess[] = [];

function startDev(
  extraArgs: string[] = [],
  env: Record<string, string | undefined> = {},
): RunningProcess {
  // The dashboard build is tested once, below; elsewhere it would only cost time.
  const build = extraArgs.includes('--build') ? [] : ['--skip-build'];
  const args = extraArgs.filter((arg) => arg !== '--build');
  const dev = startProcess(node, [...devArgs, ...build, ...args], {
    env: {
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_LOCAL_PORT: String(port),
      DATABASE_URL: undefined,
      ...env,
    },
  });
  started.push(dev);
  return dev;
}

interface Banner {
  apiUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  operator: { email: string; password: string };
  portUrl: string;
  databaseUrl: string;
  keys: Record<string, string>;
}

async function ready(dev: RunningProcess): Promise<Banner> {
  await dev.waitFor(/Press Ctrl-C to stop\./, 90_000);
  const out = dev.output();
  const keys = Object.fromEntries(
    [...out.matchAll(/^ {4}(lead-gen|apex-sales) +(omni\.[a-z0-9]+\.[A-Za-z0-9_-]+)$/gm)].map(
      (m) => [m[1]!, m[2]!],
    ),
  );
  const login = out.match(/OmniDash login +(\S+) +password +(\S+)/)!;
  return {
    apiUrl: out.match(/API URL +(\S+)/)![1]!,
    anonKey: out.match(/anon key +(\S+)/)![1]!,
    serviceRoleKey: out.match(/service_role +(\S+)/)![1]!,
    operator: { email: login[1]!, password: login[2]! },
    portUrl: out.match(/OmniLink Port +(\S+)/)![1]!,
    databaseUrl: out.match(/Database +(\S+)/)![1]!,
    keys,
  };
}

/** The real supabase-js, as OmniDash would make it from the printed URL and anon key. */
function supabase(banner: Banner, key = banner.anonKey): SupabaseClient {
  return createClient(banner.apiUrl, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    // Node 20 has no global WebSocket; supabase-js documents passing ws.
    realtime: { transport: WebSocket as never },
  });
}

async function stop(dev: RunningProcess): Promise<number | string> {
  dev.child.kill('SIGINT');
  return dev.exited;
}

async function post(url: string, key: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'omnihub-dev-test-'));
  port = await portPair();
});
afterEach(async () => {
  for (const dev of started.splice(0)) {
    if (dev.child.exitCode === null && dev.child.signalCode === null) {
      try {
        process.kill(-dev.child.pid!, 'SIGINT'); // a detached one's whole group
      } catch {
        dev.child.kill('SIGINT');
      }
    }
    await dev.exited;
  }
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('pnpm dev', () => {
  let firstKeys: Record<string, string>;
  let firstEventId: string;

  it('starts from an empty data dir, serves the port with working demo keys, and stops Postgres on Ctrl-C', async () => {
    const dev = startDev();
    const banner = await ready(dev);
    expect(banner.portUrl).toBe(`http://127.0.0.1:${port}/functions/v1/omnilink-port`);
    expect(Object.keys(banner.keys).sort()).toEqual(['apex-sales', 'lead-gen']);

    const sql = connectDatabase(banner.databaseUrl, { max: 1 });
    const [{ count }] =
      (await sql`select count(*)::int from supabase_migrations.schema_migrations`) as any;
    expect(count).toBe((await listMigrations()).length);
    await sql.end();

    const health = await fetch(`${banner.portUrl}/health`);
    expect(health.status).toBe(200);
    const event = await post(`${banner.portUrl}/events`, banner.keys['lead-gen']!, {
      type: 'lead_ingested',
      idempotency_key: 'dev-1',
    });
    expect(event.status).toBe(201);
    const claim = await post(`${banner.portUrl}/tasks/claim`, banner.keys['apex-sales']!, {
      worker_id: 'dev-test',
    });
    expect(claim).toEqual({ status: 200, body: { tasks: [] } });
    firstKeys = banner.keys;
    firstEventId = event.body.id;

    expect(await stop(dev)).toBe(0);
    expect(dev.output()).toMatch(/Stopped\./);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    const gone = connectDatabase(banner.databaseUrl, { max: 1 });
    await expect(gone`select 1`).rejects.toThrow();
    await gone.end();
  });

  it('prints Supabase credentials that work with supabase-js: operator login, anon and service-role keys, Realtime', async () => {
    const dev = startDev();
    const banner = await ready(dev);
    expect(banner.apiUrl).toBe(`http://127.0.0.1:${port}`);
    expect(dev.output()).toContain(`ws://127.0.0.1:${port}/realtime/v1/websocket`);

    const operator = supabase(banner);
    const signIn = await operator.auth.signInWithPassword(banner.operator);
    expect(signIn.error).toBeNull();
    expect(signIn.data.user?.email).toBe('admin@omnihub.local');
    expect((await operator.auth.getUser()).data.user?.id).toBe(signIn.data.user!.id);

    // The demo tenant's admin: reads its events, dispatches a task.
    const seen = await operator
      .from('telemetry_events')
      .select('source, idempotency_key, tenant_id')
      .eq('idempotency_key', 'dev-1');
    expect(seen.error).toBeNull();
    expect(seen.data).toMatchObject([{ source: 'lead-gen', idempotency_key: 'dev-1' }]);
    const tenantId = seen.data![0]!.tenant_id as string;
    const dispatched = await operator.rpc('create_task', {
      p_tenant_id: tenantId,
      p_target: 'lead-gen',
      p_action: 'echo',
      p_payload: { from: 'dev test' },
    });
    expect(dispatched.error).toBeNull();

    // Live: an event sent through the port with a printed key reaches the operator.
    let onInsert!: (row: Record<string, unknown>) => void;
    const received = new Promise<Record<string, unknown>>((resolve) => (onInsert = resolve));
    const channel = operator.channel('dev-events').on(
      'postgres_changes',
      {
        event: 'INSERT',
        schema: 'public',
        table: 'telemetry_events',
        filter: `tenant_id=eq.${tenantId}`,
      },
      (change) => onInsert(change.new),
    );
    await new Promise<void>((resolve, reject) =>
      channel.subscribe((status, error) =>
        status === 'SUBSCRIBED' ? resolve() : error ? reject(error) : undefined,
      ),
    );
    const live = await post(`${banner.portUrl}/events`, banner.keys['apex-sales']!, {
      type: 'call_attempted',
      idempotency_key: 'dev-live-1',
    });
    expect(live.status).toBe(201);
    expect(await received).toMatchObject({ id: live.body.id, source: 'apex-sales' });

    // The anon key alone may not read it at all; the service-role key sees everything.
    const anon = await supabase(banner).from('telemetry_events').select('id');
    expect(anon).toMatchObject({ status: 401, data: null, error: { code: '42501' } });
    const service = await supabase(banner, banner.serviceRoleKey)
      .from('telemetry_events')
      .select('id', { count: 'exact', head: true });
    expect(service.error).toBeNull();
    expect(service.count).toBeGreaterThanOrEqual(2);

    // Refresh and sign out, as OmniDash's session handling does.
    const refreshed = await operator.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    // Refresh tokens rotate (an access token made in the same second may be identical).
    expect(refreshed.data.session!.refresh_token).not.toBe(signIn.data.session!.refresh_token);
    expect((await operator.auth.signOut()).error).toBeNull();
    const wrong = await supabase(banner).auth.signInWithPassword({
      email: banner.operator.email,
      password: 'not the password',
    });
    expect(wrong.error).toMatchObject({ status: 400, code: 'invalid_credentials' });

    await operator.removeAllChannels();
    expect(await stop(dev)).toBe(0);
  });

  it('keeps data and prints the same demo keys after a restart', async () => {
    const dev = startDev();
    const banner = await ready(dev);
    expect(banner.keys).toEqual(firstKeys);
    const again = await post(`${banner.portUrl}/events`, banner.keys['lead-gen']!, {
      type: 'lead_ingested',
      idempotency_key: 'dev-1',
    });
    expect(again).toEqual({ status: 200, body: { status: 'duplicate', id: firstEventId } });
    expect(await stop(dev)).toBe(0);
  });

  it('lets `pnpm omnihub keys` use the running stack’s database, and start it alone when the stack is down', async () => {
    const dev = startDev();
    const banner = await ready(dev);
    const env = {
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_LOCAL_PORT: String(port),
      DATABASE_URL: undefined,
    };
    const create = startProcess(
      node,
      [
        ...cliArgs,
        'keys',
        'create',
        '--tenant',
        'demo',
        '--source',
        'lead-gen',
        '--scopes',
        'events:write',
        '--json',
      ],
      { env },
    );
    expect(await create.exited).toBe(0);
    const created = JSON.parse(create.output());
    const event = await post(`${banner.portUrl}/events`, created.api_key, {
      type: 'cli',
      idempotency_key: 'cli-1',
    });
    expect(event.status).toBe(201);
    expect(await stop(dev)).toBe(0);

    const list = startProcess(node, [...cliArgs, 'keys', 'list', '--tenant', 'demo'], { env });
    expect(await list.exited).toBe(0);
    expect(list.output()).toContain(created.key_id);
    expect(list.output()).not.toContain(created.api_key.split('.')[2]);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('answers 503 on every route with OMNILINK_ENABLED=false', async () => {
    const dev = startDev([], { OMNILINK_ENABLED: 'false' });
    const banner = await ready(dev);
    expect(dev.output()).toMatch(/OMNILINK_ENABLED=false/);
    expect((await fetch(`${banner.portUrl}/health`)).status).toBe(503);
    const event = await post(`${banner.portUrl}/events`, banner.keys['lead-gen']!, {
      type: 'x',
      idempotency_key: 'off',
    });
    expect(event).toMatchObject({ status: 503, body: { error: 'omnilink_disabled' } });
    expect(await stop(dev)).toBe(0);
  });

  it('starts empty with --reset: the old keys and data are gone; OMNIHUB_ADMIN_PASSWORD sets the login', async () => {
    const chosen = 'a password I chose';
    const dev = startDev(['--reset'], { OMNIHUB_ADMIN_PASSWORD: chosen });
    const banner = await ready(dev);
    // A password the user chose is not echoed to the terminal.
    expect(dev.output()).not.toContain(chosen);
    expect(dev.output()).toContain('(your OMNIHUB_ADMIN_PASSWORD)');
    const signIn = await supabase(banner).auth.signInWithPassword({
      email: banner.operator.email,
      password: chosen,
    });
    expect(signIn.error).toBeNull();
    expect(banner.keys['lead-gen']).not.toBe(firstKeys['lead-gen']);
    const oldKey = await post(`${banner.portUrl}/events`, firstKeys['lead-gen']!, {
      type: 'x',
      idempotency_key: 'old',
    });
    expect(oldKey.status).toBe(401);
    const fresh = await post(`${banner.portUrl}/events`, banner.keys['lead-gen']!, {
      type: 'lead_ingested',
      idempotency_key: 'dev-1',
    });
    expect(fresh.body.status).toBe('created');
    expect(await stop(dev)).toBe(0);
  });

  it('uses the Postgres in DATABASE_URL instead of starting one', async () => {
    const external = await createTestDatabase();
    const otherDir = await mkdtemp(join(tmpdir(), 'omnihub-dev-url-'));
    try {
      const dev = startDev([], { DATABASE_URL: external.url, OMNIHUB_DATA_DIR: otherDir });
      const banner = await ready(dev);
      const event = await post(`${banner.portUrl}/events`, banner.keys['apex-sales']!, {
        type: 'x',
        idempotency_key: 'url-1',
      });
      expect(event.status).toBe(201);
      const rows =
        await external.sql`select count(*)::int as n from telemetry_events where idempotency_key = 'url-1'`;
      expect(rows[0]!.n).toBe(1);
      expect(existsSync(join(otherDir, 'postgres'))).toBe(false);
      expect(await stop(dev)).toBe(0);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
      await external.drop();
    }
  });

  it('runs both agents in hybrid mode with `pnpm dev --agents`, and a terminal’s Ctrl-C stops them and everything else, in order', async () => {
    const since = new Date().toISOString();
    // The command a user types, in its own process group, signalled as a terminal signals it.
    const dev = startProcess('pnpm', ['-s', 'dev', '--agents', '--skip-build'], {
      env: { OMNIHUB_DATA_DIR: dataDir, OMNIHUB_LOCAL_PORT: String(port), DATABASE_URL: undefined },
      detached: true,
    });
    started.push(dev);
    const banner = await ready(dev);
    await dev.waitFor(/\[lead-gen\] started in hybrid mode/);
    await dev.waitFor(/\[apex-sales\] started in hybrid mode/);
    const pids = [...dev.output().matchAll(/started in hybrid mode \(pid (\d+)\)/g)].map((m) =>
      Number(m[1]),
    );
    expect(pids).toHaveLength(2);

    const operator = supabase(banner);
    expect((await operator.auth.signInWithPassword(banner.operator)).error).toBeNull();
    // Live data at once: both agents' simulated activity arrives.
    await expect
      .poll(
        async () => {
          const { data } = await operator
            .from('telemetry_events')
            .select('source')
            .gte('received_at', since);
          return [...new Set((data ?? []).map((row) => row.source as string))].sort();
        },
        { timeout: 60_000, interval: 200 },
      )
      .toEqual(['apex-sales', 'lead-gen']);

    // And they work tasks dispatched by an operator.
    const { data: tenant } = await operator
      .from('tenants')
      .select('id')
      .eq('slug', 'demo')
      .single();
    const dispatched = await operator.rpc('create_task', {
      p_tenant_id: tenant!.id,
      p_target: 'apex-sales',
      p_action: 'echo',
      p_payload: { hello: 'agents' },
    });
    expect(dispatched.error).toBeNull();
    const taskId = (dispatched.data as { task: { id: string } }).task.id;
    await expect
      .poll(
        async () =>
          (
            await operator
              .from('tasks')
              .select('status, output, claimed_by')
              .eq('id', taskId)
              .single()
          ).data,
        { timeout: 60_000, interval: 200 },
      )
      .toEqual({ status: 'succeeded', output: { hello: 'agents' }, claimed_by: 'apex-sales-dev' });

    // Ctrl-C reaches every process of the group (pnpm, node; Postgres and the agents have their own).
    process.kill(-dev.child.pid!, 'SIGINT');
    await dev.exited;
    expect(dev.output()).toMatch(/Stopped\./);
    expect(dev.output()).not.toMatch(/Forcing exit|Unexpected error/);
    expect(dev.output()).toMatch(/\[lead-gen\] exited \(0\)/);
    expect(dev.output()).toMatch(/\[apex-sales\] exited \(0\)/);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('builds a missing OmniDash in the background, serving everything else meanwhile, then serves it at /', async () => {
    const dashboardDir = await mkdtemp(join(tmpdir(), 'omnihub-dev-dashboard-'));
    try {
      const dev = startDev(['--build'], { OMNIHUB_DASHBOARD_DIR: dashboardDir });
      const banner = await ready(dev);
      expect(dev.output()).toMatch(/OmniDash +http:\/\/127\.0\.0\.1:\d+\/ +\(building…\)/);
      // The stack is up while the build runs.
      expect((await fetch(`${banner.portUrl}/health`)).status).toBe(200);
      await dev.waitFor(/OmniDash is ready/, 120_000);
      const page = await fetch(`${banner.apiUrl}/omnidash/tasks`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<title>OmniDash</title>');
      expect(html).toContain(banner.anonKey);
      expect(await stop(dev)).toBe(0);

      // Built and unchanged: the next start serves it as it is.
      const again = startDev(['--build'], { OMNIHUB_DASHBOARD_DIR: dashboardDir });
      await ready(again);
      expect(again.output()).not.toMatch(/building|Building/);
      expect(await stop(again)).toBe(0);
    } finally {
      await rm(dashboardDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad OMNIHUB_LOCAL_PORT with a sentence that says what to fix', async () => {
    const dev = startDev([], { OMNIHUB_LOCAL_PORT: 'eighty' });
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toMatch(/OMNIHUB_LOCAL_PORT must be a port number/);
  });
});
