import type { Agent } from 'node:http';
import { ALL_SCOPES } from '@omnihub/contracts';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_BOOKKEEPING, describeChanges, snapshotDatabase } from './support/database-state.ts';
import {
  CATEGORIES,
  applicableOperations,
  buildCase,
  planCases,
  type Category,
  type GeneratorSetup,
} from './support/invalid-requests.ts';
import {
  checkErrorAnswer,
  clip,
  createAgent,
  describeRequest,
  forEachBounded,
  sendRaw,
} from './support/port-http.ts';
import { fillPath, loadOperations, sampleBody } from './support/port-operations.ts';
import { SeededRandom } from './support/seeded-random.ts';

/**
 * Malformed input: at least 10,000 generated bad requests against the real
 * port over HTTP, every endpoint of its OpenAPI document, with a key holding
 * every scope so they all get past authentication to validation → no 5xx,
 * every answer the contract's JSON error with the status its code goes with,
 * and no row changed.
 *
 * Replay: the seed is printed; MALFORMED_SEED=<seed> regenerates the same
 * requests, and MALFORMED_CASES=<i>,<j> sends only those cases.
 */
const SEED = Number(process.env.MALFORMED_SEED ?? 20261121);
const ONLY = process.env.MALFORMED_CASES?.split(',').map(Number);
const MIN_REQUESTS = 10_000;
const CONCURRENCY = 16;

let t: TestStack;
let agent: Agent;
let setup: GeneratorSetup;

beforeAll(async () => {
  // No background jobs: the lease sweeper and the schedule ticker would
  // change rows on their own while the database is being compared.
  t = await startTestStack({}, { leaseSweepMs: 3_600_000, scheduleTickMs: 3_600_000 });
  agent = createAgent(CONCURRENCY);
  // Every scope and no rate limit, so each request reaches the input checks.
  const key = await t.issueKey({ tenant: 'acme', source: 'apex-sales', scopes: ALL_SCOPES });
  const other = await t.issueKey({ tenant: 'globex', source: 'apex-sales' });
  const workerId = 'apex-sales-worker-1';

  // The task the cases point at, running under workerId for the whole run;
  // then ready tasks and an event, so a request that slipped through would
  // have something to claim, complete or duplicate.
  const taskId = await t.createTask(key, { target: key.source, action: 'probe', priority: 10 });
  const claim = await fetch(`${t.stack.portUrl}/tasks/claim`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ worker_id: workerId, lease_seconds: 3600 }),
  });
  const claimed = (await claim.json()) as { tasks: { id: string }[] };
  if (claimed.tasks[0]?.id !== taskId) throw new Error(`claim answered ${JSON.stringify(claimed)}`);
  for (let i = 0; i < 3; i++) await t.createTask(key, { target: key.source, action: 'probe' });
  await fetch(`${t.stack.portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'lead_ingested', idempotency_key: 'seen-1' }),
  });

  setup = {
    seed: SEED,
    operations: await loadOperations(t.stack.portUrl),
    apiKey: key.apiKey,
    keyId: key.keyId,
    secret: key.apiKey.split('.')[2]!,
    taskId,
    workerId,
    source: key.source,
    otherTenantTaskId: await t.createTask(other, { target: other.source, action: 'probe' }),
  };
});

afterAll(async () => {
  agent?.destroy();
  await t?.close();
});

describe('malformed input', () => {
  it('plans at least 10,000 cases over every operation of the OpenAPI document', () => {
    const plan = planCases(setup);
    expect(plan.length).toBeGreaterThanOrEqual(MIN_REQUESTS);
    // Every operation gets cases; every category has somewhere to go.
    const covered = new Set(plan.map((p) => `${p.operation.method} ${p.operation.path}`));
    expect([...covered].sort()).toEqual(
      setup.operations.map((o) => `${o.method} ${o.path}`).sort(),
    );
    const nowhere = (Object.keys(CATEGORIES) as Category[]).filter(
      (category) => applicableOperations(setup, category).length === 0,
    );
    expect(nowhere).toEqual([]);
  });

  it("answers every bad request with the contract's JSON error, never a 5xx, and changes no row", async () => {
    const plan = planCases(setup);
    const indexes = ONLY ?? plan.map((_, i) => i);
    console.log(
      `malformed input: seed ${SEED}, ${indexes.length} requests over ${setup.operations.length} operations, ${CONCURRENCY} at a time (replay with MALFORMED_SEED=${SEED})`,
    );
    const before = await snapshotDatabase(t.db.sql, { exclude: KEY_BOOKKEEPING });

    const failures: string[] = [];
    const tally = new Map<string, Map<number, number>>();
    const started = performance.now();
    await forEachBounded(indexes, CONCURRENCY, async (index) => {
      const generated = buildCase(setup, plan[index]!, index);
      const answer = await sendRaw(t.stack.portUrl, agent, generated.request);
      const row = tally.get(generated.category) ?? new Map<number, number>();
      row.set(answer.status, (row.get(answer.status) ?? 0) + 1);
      tally.set(generated.category, row);
      const { problems } = checkErrorAnswer(answer, generated.expect);
      if (problems.length > 0) {
        failures.push(
          `#${index} [${generated.category}] ${generated.operation}: ${generated.note}\n` +
            `  problems: ${problems.join('; ')}\n` +
            `  answer: ${answer.status} ${clip(answer.networkError ?? answer.text, 300)}\n` +
            `  request: ${describeRequest(generated.request, [setup.secret])}\n` +
            `  replay: MALFORMED_SEED=${SEED} MALFORMED_CASES=${index} pnpm test:reliability reliability/malformed-input.test.ts`,
        );
      }
    });
    const seconds = (performance.now() - started) / 1000;

    console.log(
      `${indexes.length} requests in ${seconds.toFixed(1)} s; answers by category:\n` +
        [...tally.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(
            ([category, statuses]) =>
              `  ${category.padEnd(15)} ${[...statuses.entries()]
                .sort(([a], [b]) => a - b)
                .map(([status, n]) => `${status}×${n}`)
                .join(' ')}`,
          )
          .join('\n'),
    );

    const changes = await describeChanges(
      t.db.sql,
      before,
      await snapshotDatabase(t.db.sql, { exclude: KEY_BOOKKEEPING }),
    );
    // Soft: a run that breaks both rules reports both.
    expect
      .soft(
        failures.length,
        `${failures.length} of ${indexes.length} answers broke the contract (seed ${SEED}); the first ones:\n${failures.slice(0, 25).join('\n')}`,
      )
      .toBe(0);
    expect.soft(changes, 'rows changed by requests that were all refused').toEqual([]);
    expect(indexes.length).toBeGreaterThanOrEqual(ONLY ? 1 : MIN_REQUESTS);
  });

  // Last, as it changes rows: proves that what the cases start from is a
  // request the port carries out, so their refusals come from the one fault
  // each case adds.
  it('carries out the unbroken requests the cases start from (control)', async () => {
    const random = new SeededRandom(SEED);
    const statuses: Record<string, number> = {};
    for (const operation of setup.operations) {
      const headers: Record<string, string> = { authorization: `Bearer ${setup.apiKey}` };
      let body: string | undefined;
      if (operation.bodies.length > 0) {
        headers['content-type'] = 'application/json';
        const context = {
          taskId: setup.taskId,
          workerId: setup.workerId,
          source: setup.source,
          idempotencyKey: () => `control-${random.text(8, 'abcdef0123456789')}`,
        };
        body = JSON.stringify(sampleBody(operation, context, random).value);
      }
      const answer = await sendRaw(t.stack.portUrl, agent, {
        method: operation.method,
        path: fillPath(operation, setup.taskId),
        headers,
        body,
      });
      statuses[`${operation.method} ${operation.path}`] = answer.status;
    }
    for (const [route, status] of Object.entries(statuses)) {
      expect({ route, ok: status >= 200 && status < 300 }).toEqual({ route, ok: true });
    }
  });
});
