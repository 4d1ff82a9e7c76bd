import { connectDatabase } from '@omnihub/database';
import {
  createTestDatabase,
  startProcess,
  tsxCommand,
  type TestDatabase,
} from '@omnihub/database/testing';
import { createPortApp } from '@omnihub/port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const [node, cliArgs] = tsxCommand('scripts/omnihub/main.ts');

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function omnihub(args: string[], env: Record<string, string | undefined> = {}) {
  const run = startProcess(node, [...cliArgs, ...args], { env: { DATABASE_URL: db.url, ...env } });
  const code = await run.exited;
  return { code, output: run.output() };
}

/** The port app on the same database, to prove a created key really works (or no longer does). */
async function send(
  apiKey: string,
  path = '/events',
  body: unknown = { type: 'cli', idempotency_key: crypto.randomUUID() },
) {
  const app = createPortApp({ sql: db.sql, log: () => {} });
  const response = await app.request(`/omnilink-port${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return response.status;
}

describe('pnpm omnihub keys create', () => {
  it('creates the tenant and integration, prints the six JSON fields, and the key works at the port', async () => {
    const { code, output } = await omnihub([
      'keys',
      'create',
      '--tenant',
      'acme',
      '--source',
      'lead-gen',
      '--scopes',
      'events:write,tasks:claim',
      '--json',
    ]);
    expect(code).toBe(0);
    const created = JSON.parse(output);
    expect(Object.keys(created)).toEqual([
      'api_key',
      'key_id',
      'tenant_id',
      'integration_id',
      'source',
      'scopes',
    ]);
    expect(created.api_key).toMatch(new RegExp(`^omni\\.${created.key_id}\\.[A-Za-z0-9_-]{43}$`));
    expect(created).toMatchObject({ source: 'lead-gen', scopes: ['events:write', 'tasks:claim'] });
    const [tenant] = await db.sql`select id from tenants where slug = 'acme'`;
    expect(created.tenant_id).toBe(tenant!.id);

    expect(await send(created.api_key)).toBe(201);
    expect(await send(created.api_key, '/tasks', { target: 'lead-gen', action: 'x' })).toBe(403);

    const second = JSON.parse(
      (
        await omnihub([
          'keys',
          'create',
          '--tenant',
          'acme',
          '--source',
          'lead-gen',
          '--scopes',
          'events:write',
          '--json',
        ])
      ).output,
    );
    expect(second.integration_id).toBe(created.integration_id);
    expect(second.key_id).not.toBe(created.key_id);
  });

  it('stores --max-rpm and --expires-in, and says the key is shown once', async () => {
    const { code, output } = await omnihub([
      'keys',
      'create',
      '--tenant',
      'acme',
      '--source',
      'apex-sales',
      '--scopes',
      'events:write',
      '--max-rpm',
      '60',
      '--expires-in',
      '90d',
    ]);
    expect(code).toBe(0);
    expect(output).toMatch(/shown only this once/);
    const keyId = output.match(/key id ([a-z0-9]+)/)![1]!;
    const [row] =
      await db.sql`select max_rpm, expires_at - created_at as lifetime from api_keys where key_id = ${keyId}`;
    expect(row!.max_rpm).toBe(60);
    expect(row!.lifetime).toBe('90 days');
  });

  it.each([
    [['--scopes', 'events:write,bogus'], /Unknown scope bogus/],
    [['--scopes', ''], /--scopes/],
    [['--scopes', 'events:write', '--max-rpm', '0'], /--max-rpm/],
    [['--scopes', 'events:write', '--expires-in', 'soon'], /--expires-in/],
  ])('refuses %j with exit code 2 and creates nothing', async (extra, message) => {
    const [before] = await db.sql`select count(*)::int as n from api_keys`;
    const { code, output } = await omnihub([
      'keys',
      'create',
      '--tenant',
      'acme',
      '--source',
      'lead-gen',
      ...extra,
    ]);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    const [after] = await db.sql`select count(*)::int as n from api_keys`;
    expect(after!.n).toBe(before!.n);
  });
});

describe('pnpm omnihub keys list and revoke', () => {
  it('lists keys without their secrets, revokes one so the port answers 401, and says so when repeated', async () => {
    const created = JSON.parse(
      (
        await omnihub([
          'keys',
          'create',
          '--tenant',
          'globex',
          '--source',
          'lead-gen',
          '--scopes',
          'events:write',
          '--json',
        ])
      ).output,
    );
    const secret = created.api_key.split('.')[2];

    const list = await omnihub(['keys', 'list', '--tenant', 'globex']);
    expect(list.code).toBe(0);
    expect(list.output).toMatch(new RegExp(`${created.key_id}\\s+lead-gen\\s+active`));
    expect(list.output).not.toContain(secret);
    const listJson = await omnihub(['keys', 'list', '--tenant', 'globex', '--json']);
    expect(listJson.output).not.toContain(secret);
    expect(JSON.parse(listJson.output)).toHaveLength(1);

    const revoke = await omnihub(['keys', 'revoke', created.key_id]);
    expect(revoke.code).toBe(0);
    expect(revoke.output).toMatch(/Revoked key/);
    expect(await send(created.api_key)).toBe(401);
    expect((await omnihub(['keys', 'list', '--tenant', 'globex'])).output).toMatch(
      new RegExp(`${created.key_id}\\s+lead-gen\\s+revoked`),
    );
    expect((await omnihub(['keys', 'revoke', created.key_id])).output).toMatch(/already revoked/);
  });

  it('exits 1 for an unknown key id or tenant', async () => {
    expect(await omnihub(['keys', 'revoke', 'nosuchkey1'])).toMatchObject({
      code: 1,
      output: expect.stringMatching(/No API key with id/),
    });
    expect(await omnihub(['keys', 'list', '--tenant', 'nobody'])).toMatchObject({
      code: 1,
      output: expect.stringMatching(/No tenant/),
    });
  });

  it('explains what to do when DATABASE_URL has no OmniHub schema', async () => {
    const server = connectDatabase(inject('omnihubServerUrl'), { max: 1 });
    const name = `omnihub_empty_${process.pid}`;
    await server.unsafe(`create database ${name}`);
    try {
      const url = new URL(inject('omnihubServerUrl'));
      url.pathname = `/${name}`;
      const { code, output } = await omnihub(['keys', 'list', '--tenant', 'acme'], {
        DATABASE_URL: url.toString(),
      });
      expect(code).toBe(1);
      expect(output).toMatch(/no OmniHub schema/);
    } finally {
      await server.unsafe(`drop database ${name} with (force)`);
      await server.end();
    }
  });

  it('shows usage for an unknown command with exit code 2', async () => {
    expect(await omnihub(['keys', 'rotate'])).toMatchObject({
      code: 2,
      output: expect.stringMatching(/Usage:/),
    });
  });
});
