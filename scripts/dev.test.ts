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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

function startDev(
  extraArgs: string[] = [],
  env: Record<string, string | undefined> = {},
): RunningProcess {
  return startProcess(node, [...devArgs, ...extraArgs], {
    env: {
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_LOCAL_PORT: String(port),
      DATABASE_URL: undefined,
      ...env,
    },
  });
}

interface Banner {
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
  return {
    portUrl: out.match(/OmniLink Port +(\S+)/)![1]!,
    databaseUrl: out.match(/Database +(\S+)/)![1]!,
    keys,
  };
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

  it('starts empty with --reset: the old keys and data are gone', async () => {
    const dev = startDev(['--reset']);
    const banner = await ready(dev);
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

  it('refuses a bad OMNIHUB_LOCAL_PORT with a sentence that says what to fix', async () => {
    const dev = startDev([], { OMNIHUB_LOCAL_PORT: 'eighty' });
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toMatch(/OMNIHUB_LOCAL_PORT must be a port number/);
  });
});
