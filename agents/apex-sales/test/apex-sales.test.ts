import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startProcess,
  tsxCommand,
  type IssuedKey,
  type RunningProcess,
} from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const [node, args] = tsxCommand('agents/apex-sales/src/main.ts');

let t: TestStack;
let key: IssuedKey;
let emptyDir: string;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  emptyDir = await mkdtemp(join(tmpdir(), 'apex-sales-test-'));
});
afterAll(async () => {
  await t.close();
  await rm(emptyDir, { recursive: true, force: true });
});

function apexSales(
  extraArgs: string[],
  env: Record<string, string | undefined> = {},
): RunningProcess {
  return startProcess(node, [...args, ...extraArgs], {
    cwd: emptyDir,
    env: { ...t.agentEnv(key), APEX_SALES_MODE: undefined, APEX_SALES_CALL_MS: '0', ...env },
  });
}

/** Through the port, as an operator or another agent would. */
function createTask(action: string, payload: Record<string, unknown>) {
  return t.createTask(key, { target: 'apex-sales', action, payload });
}

const statusOf = async (id: string) =>
  (await t.db.sql`select status from tasks where id = ${id}`)[0]!.status as string;

describe('pnpm apex-sales (simulate)', () => {
  it('places 10 calls with random outcomes; --seed makes them repeatable', async () => {
    const runs = [];
    for (const runId of ['seeded-a', 'seeded-b']) {
      const run = apexSales(['--seed', '7', '--run-id', runId]);
      expect(await run.exited).toBe(0);
      runs.push(run.output().trim());
    }
    const figures = (line: string) => line.replace(/^APEX-Sales simulation \S+ /, '');
    expect(figures(runs[0]!)).toBe(figures(runs[1]!));
    expect(runs[0]).toMatch(
      /^APEX-Sales simulation seeded-a \(seed 7\): 10 call attempts, \d+ connections \(\d+%\), \d+ bookings/,
    );

    const byType = async (runId: string) =>
      (
        await t.db
          .sql`select type, count(*)::int as n from telemetry_events where idempotency_key like ${`apex-sales:${runId}:%`} group by type order by type`
      ).map((r) => `${r.type}=${r.n}`);
    expect(await byType('seeded-a')).toEqual(await byType('seeded-b'));
    const counts = Object.fromEntries(
      (await byType('seeded-a')).map((entry) => entry.split('=')).map(([k, v]) => [k, Number(v)]),
    );
    expect(counts.call_attempted).toBe(10);
    expect(counts.call_completed).toBe(10);
    const sent = Number(runs[0]!.match(/; (\d+) events sent/)![1]);
    expect(Object.values(counts).reduce((a: number, b) => a + (b as number), 0)).toBe(sent);
  });
});

describe('pnpm apex-sales (re-runs)', () => {
  it('sends nothing new when a named run is sent again without --seed (the run id seeds it)', async () => {
    const first = apexSales(['--run-id', 'unseeded-1']);
    expect(await first.exited).toBe(0);
    const again = apexSales(['--run-id', 'unseeded-1']);
    expect(await again.exited).toBe(0);
    const sent = Number(first.output().match(/; (\d+) events sent \(\1 new/)![1]);
    expect(again.output()).toContain(`${sent} events sent (0 new, ${sent} already stored)`);
  });

  it('refuses to start with a key of another integration', async () => {
    const leadGenKey = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
    const run = startProcess(node, args, {
      cwd: emptyDir,
      env: { ...t.agentEnv(leadGenKey), OMNIHUB_SOURCE: undefined, APEX_SALES_MODE: 'worker' },
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /OMNIHUB_API_KEY belongs to the lead-gen integration, but this is the APEX-Sales agent \(source apex-sales\)/,
    );
  });
});

describe('pnpm apex-sales (worker)', () => {
  it('claims, runs and completes echo and call_lead with the handlers’ results, and emits the call’s events', async () => {
    const worker = apexSales([], { APEX_SALES_MODE: 'worker' });
    await worker.waitFor(/is online: claiming apex-sales tasks/);
    const echo = await createTask('echo', { message: 'hello from OmniHub' });
    const call = await createTask('call_lead', { lead_id: 'lead-104' });
    await expect
      .poll(async () => [await statusOf(echo), await statusOf(call)], { timeout: 20_000 })
      .toEqual(['succeeded', 'succeeded']);

    const [echoRow] = await t.db.sql`select output from tasks where id = ${echo}`;
    expect(echoRow!.output).toEqual({ message: 'hello from OmniHub' });
    const [callRow] = await t.db.sql`select output from tasks where id = ${call}`;
    expect(callRow!.output).toMatchObject({
      lead_id: 'lead-104',
      outcome: expect.stringMatching(/no_answer|error|not_interested|callback|meeting_booked/),
    });
    const events = await t.db
      .sql`select type, data from telemetry_events where idempotency_key like ${`apex-sales:task:${call}:%`} order by occurred_at, type`;
    expect(events[0]).toEqual({
      type: 'call_attempted',
      data: { lead_id: 'lead-104', phone: '+44 20 7946 0104' },
    });
    expect(events.find((e) => e.type === 'call_completed')!.data).toEqual({
      lead_id: 'lead-104',
      outcome: callRow!.output.outcome,
    });

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('on SIGTERM during a call, finishes the call, completes the task succeeded and exits 0', async () => {
    const worker = apexSales([], { APEX_SALES_MODE: 'worker', APEX_SALES_CALL_MS: '3000' });
    await worker.waitFor(/is online/);
    const call = await createTask('call_lead', { lead_id: 'lead-101' });
    await expect.poll(() => statusOf(call), { timeout: 10_000 }).toBe('running');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await statusOf(call)).toBe('succeeded');
    expect(worker.output()).toMatch(/SIGTERM: no new tasks; letting 1 running task\(s\) finish/);
  });

  it('in hybrid mode simulates, works for APEX_SALES_HYBRID_SECONDS, then exits 0', async () => {
    const run = apexSales(['--run-id', 'hybrid-1'], {
      APEX_SALES_MODE: 'hybrid',
      APEX_SALES_HYBRID_SECONDS: '3',
    });
    await run.waitFor(/is online/);
    const echo = await createTask('echo', { during: 'hybrid' });
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/APEX-Sales simulation hybrid-1/);
    expect(await statusOf(echo)).toBe('succeeded');
  });
});
