import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatsResponse, TaskResponse } from '@omnihub/contracts';
import { freePort } from '@omnihub/database';
import { startProcess, tsxCommand, type IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const [node, cliArgs] = tsxCommand('scripts/omnihub/main.ts');

let t: TestStack;
let key: IssuedKey;
let emptyDir: string;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'apex-sales', maxRpm: 1000 });
  emptyDir = await mkdtemp(join(tmpdir(), 'omnihub-cli-test-'));
});
afterAll(async () => {
  await t.close();
  await rm(emptyDir, { recursive: true, force: true });
});

/** Runs `pnpm omnihub …` in an empty directory with the given agent settings. */
async function omnihub(args: string[], env: Record<string, string | undefined> = t.agentEnv(key)) {
  const run = startProcess(node, [...cliArgs, ...args], {
    cwd: emptyDir,
    env: {
      OMNIHUB_BASE_URL: undefined,
      OMNIHUB_API_KEY: undefined,
      OMNIHUB_SOURCE: undefined,
      OMNIHUB_WORKER_ID: undefined,
      ...env,
    },
  });
  return { code: await run.exited, output: run.output() };
}

describe('pnpm omnihub doctor', () => {
  it('passes every check for a working setup', async () => {
    const { code, output } = await omnihub(['doctor']);
    expect(code).toBe(0);
    expect(output).toMatch(/✓ settings: .*key omni\.[a-z0-9]+\.…, source apex-sales/);
    expect(output).toMatch(/✓ port reachable: OmniLink Port \d+\.\d+\.\d+ answered in \d+ ms/);
    expect(output).toMatch(/✓ API key valid: tenant acme/);
    expect(output).toMatch(/✓ source apex-sales matches the key/);
    expect(output).toMatch(/✓ round trip: median \d+ ms, max \d+ ms over 5 requests/);
    expect(output).toMatch(/1000 requests per minute; never expires/);
    expect(output).toMatch(/All checks passed\./);
    expect(output).not.toContain(key.apiKey.split('.')[2]);
  });

  it.each<[string, () => Promise<Record<string, string | undefined>>, RegExp]>([
    [
      'a malformed key',
      async () => ({
        ...t.agentEnv(key),
        OMNIHUB_API_KEY: 'not-a-key-at-all-1234567890abcdefghijkl',
      }),
      /✗ settings: OMNIHUB_API_KEY is not of the form/,
    ],
    [
      'a port that is not running',
      async () => ({
        ...t.agentEnv(key),
        OMNIHUB_BASE_URL: `http://127.0.0.1:${await freePort()}/functions/v1`,
      }),
      /✗ cannot reach .*is the stack running \(pnpm dev\)/,
    ],
    [
      'a URL without /functions/v1',
      async () => ({ ...t.agentEnv(key), OMNIHUB_BASE_URL: t.stack.apiUrl }),
      /✗ nothing answers as the OmniLink Port .*ending in \/functions\/v1/,
    ],
    [
      'another integration’s source',
      async () => ({ ...t.agentEnv(key), OMNIHUB_SOURCE: 'lead-gen' }),
      /✗ OMNIHUB_SOURCE is lead-gen but the key belongs to the apex-sales integration/,
    ],
    [
      'a revoked key',
      async () => {
        const revoked = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
        await t.db.sql`select omnilink.revoke_api_key(${revoked.keyId})`;
        return t.agentEnv(revoked);
      },
      /✗ the port refused the API key: This API key was revoked/,
    ],
  ])('explains %s and exits 1', async (_name, env, message) => {
    const { code, output } = await omnihub(['doctor'], await env());
    expect(code).toBe(1);
    expect(output).toMatch(message);
    expect(output).toMatch(/Something needs fixing/);
  });

  it('says when OmniLink is switched off for the tenant', async () => {
    await t.db
      .sql`update tenant_settings set omnilink_enabled = false where tenant_id = ${key.tenantId}`;
    try {
      const { code, output } = await omnihub(['doctor']);
      expect(code).toBe(1);
      expect(output).toMatch(/✗ OmniLink is switched off for your tenant/);
    } finally {
      await t.db
        .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${key.tenantId}`;
    }
  });

  it('says when OmniLink is switched off for the whole deployment', async () => {
    const off = await startTestStack({ OMNILINK_ENABLED: 'false' });
    try {
      const offKey = await off.issueKey({ tenant: 'acme', source: 'apex-sales' });
      const { code, output } = await omnihub(['doctor'], off.agentEnv(offKey));
      expect(code).toBe(1);
      expect(output).toMatch(
        /✗ OmniLink is switched off for the whole deployment \(OMNILINK_ENABLED=false\)/,
      );
    } finally {
      await off.close();
    }
  });

  it('recognises Supabase’s JWT check answering in front of the port', async () => {
    const gateway = createServer((_request, response) => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end('{"code":401,"message":"Invalid JWT"}');
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = gateway.address() as AddressInfo;
      const { code, output } = await omnihub(['doctor'], {
        ...t.agentEnv(key),
        OMNIHUB_BASE_URL: `http://127.0.0.1:${port}/functions/v1`,
      });
      expect(code).toBe(1);
      expect(output).toMatch(
        /✗ something in front of the port refused the request \(401\).*--no-verify-jwt/,
      );
    } finally {
      gateway.close();
    }
  });

  it('warns, without failing, about scopes a worker will miss', async () => {
    const eventsOnly = await t.issueKey({
      tenant: 'acme',
      source: 'apex-sales',
      scopes: ['events:write'],
    });
    const { code, output } = await omnihub(['doctor'], t.agentEnv(eventsOnly));
    expect(code).toBe(0);
    expect(output).toMatch(/⚠ the key cannot claim tasks \(no tasks:claim\)/);
    expect(output).toMatch(/Works, with warnings/);
  });
});

describe('pnpm omnihub tasks and status', () => {
  it('creates a task, reads it back, and refuses bad input with a clear message', async () => {
    const created = await omnihub([
      'tasks',
      'create',
      '--action',
      'call_lead',
      '--payload',
      '{"lead_id":"42"}',
      '--priority',
      '8',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const { task } = TaskResponse.parse(JSON.parse(created.output));
    expect(task).toMatchObject({
      target: 'apex-sales',
      action: 'call_lead',
      priority: 8,
      params: { payload: { lead_id: '42' } },
      status: 'queued',
    });

    const got = await omnihub(['tasks', 'get', task.id]);
    expect(got.code).toBe(0);
    expect(got.output).toMatch(
      new RegExp(
        `task ${task.id}\\n  call_lead → apex-sales, queued \\(attempt 0 of 3, priority 8\\)`,
      ),
    );

    const text = await omnihub([
      'tasks',
      'create',
      '--action',
      'echo',
      '--idempotency-key',
      'cli-once',
    ]);
    expect(text.output).toMatch(/^Created task [0-9a-f-]{36}: echo → apex-sales, queued\./);
    expect(
      (await omnihub(['tasks', 'create', '--action', 'echo', '--idempotency-key', 'cli-once']))
        .output,
    ).toMatch(/already existed for idempotency key cli-once/);

    expect(
      await omnihub(['tasks', 'create', '--action', 'echo', '--payload', '{bad']),
    ).toMatchObject({ code: 2, output: expect.stringMatching(/--payload is not valid JSON/) });
    expect(await omnihub(['tasks', 'create', '--action', 'Echo Now'])).toMatchObject({
      code: 1,
      output: expect.stringMatching(/invalid_request: .*action/),
    });
    expect(await omnihub(['tasks', 'get', crypto.randomUUID()])).toMatchObject({
      code: 1,
      output: expect.stringMatching(/not_found/),
    });
  });

  it('prints counts by status and the workers seen in the last minute', async () => {
    await t.db.sql`delete from tasks`;
    await omnihub(['tasks', 'create', '--action', 'echo']);
    await omnihub(['tasks', 'create', '--action', 'echo', '--require-approval']);
    const [{ r }] = (await t.db
      .sql`select omnilink.port_claim_tasks(${key.keyId}, encode(s.secret_sha256, 'hex'), 'apex-worker-1', 1, 60, null, true) as r
                                    from api_keys k join omnilink.api_key_secrets s on s.api_key_id = k.id where k.key_id = ${key.keyId}`) as any;
    expect(r.tasks).toHaveLength(1);

    const text = await omnihub(['status']);
    expect(text.code).toBe(0);
    expect(text.output).toMatch(
      /^apex-sales tasks: queued 0 · waiting_approval 1 · approved 0 · running 1 · succeeded 0 · failed 0 · canceled 0/,
    );
    expect(text.output).toMatch(
      /workers seen in the last minute \(1\):\n  apex-worker-1  last seen \d+ s ago  last claim \d+ s ago/,
    );
    expect(text.output).toMatch(/^paused: no\naction limits: none$/m);
    const json = StatsResponse.parse(JSON.parse((await omnihub(['status', '--json'])).output));
    expect(json.tasks.running).toBe(1);
  });

  it('prints the pause and the action limits an operator and an admin set', async () => {
    await t.db.sql`delete from tasks`;
    await omnihub(['tasks', 'create', '--action', 'echo']);
    const [{ r }] = (await t.db
      .sql`select omnilink.port_claim_tasks(${key.keyId}, encode(s.secret_sha256, 'hex'), 'apex-worker-1', 1, 60, null, true) as r
           from api_keys k join omnilink.api_key_secrets s on s.api_key_id = k.id where k.key_id = ${key.keyId}`) as any;
    expect(r.tasks).toHaveLength(1);
    await t.db.sql`
      insert into public.task_targets (tenant_id, target, paused) values (${key.tenantId}, 'apex-sales', true)
      on conflict (tenant_id, target) do update set paused = true`;
    await t.db.sql`
      insert into public.task_action_limits (tenant_id, target, action, max_running)
      values (${key.tenantId}, 'apex-sales', 'echo', 2), (${key.tenantId}, 'apex-sales', 'call_lead', 1)`;
    try {
      const text = await omnihub(['status']);
      expect(text.code).toBe(0);
      expect(text.output).toMatch(
        /^paused: yes — workers get no task until an operator resumes the target \(OmniDash → Runner\)\naction limits: call_lead 0 of 1 running · echo 1 of 2 running$/m,
      );
      const json = StatsResponse.parse(JSON.parse((await omnihub(['status', '--json'])).output));
      expect(json).toMatchObject({
        paused: true,
        limits: [
          { action: 'call_lead', max_running: 1, running: 0 },
          { action: 'echo', max_running: 2, running: 1 },
        ],
      });
    } finally {
      await t.db.sql`delete from public.task_targets where tenant_id = ${key.tenantId}`;
      await t.db.sql`delete from public.task_action_limits where tenant_id = ${key.tenantId}`;
    }
  });

  it('needs only the URL and the key: the source comes from the key', async () => {
    const { OMNIHUB_SOURCE: _source, OMNIHUB_WORKER_ID: _worker, ...urlAndKey } = t.agentEnv(key);
    const doctor = await omnihub(['doctor'], urlAndKey);
    expect(doctor.code).toBe(0);
    expect(doctor.output).toMatch(
      /✓ source apex-sales \(from the key; OMNIHUB_SOURCE is not set\)/,
    );
    const created = await omnihub(['tasks', 'create', '--action', 'echo', '--json'], urlAndKey);
    expect(JSON.parse(created.output).task.target).toBe('apex-sales');
    expect((await omnihub(['status'], urlAndKey)).code).toBe(0);
  });

  it('refuses an unknown option with usage exit code 2', async () => {
    expect(await omnihub(['status', '--jsno'])).toMatchObject({
      code: 2,
      output: expect.stringMatching(/status: Unknown option '--jsno'/),
    });
    expect(await omnihub(['tasks', 'get', 'x', '--verbose'])).toMatchObject({ code: 2 });
  });

  it('fails with the settings problem when the agent settings are missing', async () => {
    const { code, output } = await omnihub(['status'], {});
    expect(code).toBe(1);
    expect(output).toMatch(/OMNIHUB_BASE_URL is not set.*pnpm omnihub doctor/s);
  });
});
