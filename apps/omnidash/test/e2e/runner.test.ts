import type { SupabaseClient } from '@supabase/supabase-js';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

/** Counts and states here follow Realtime and a refetch throttled to once a second: allow for a loaded machine. */
const LIVE = { timeout: 10_000 };

let e: E2E;
let operatorApi: SupabaseClient;
let worker: ReturnType<E2E['startWorker']> | null = null;

/** The apex-sales agent as a worker, started once and kept for the later cases. */
function ensureWorker() {
  worker ??= e.startWorker('apex-sales');
  return worker;
}

beforeAll(async () => {
  e = await startE2E();
  operatorApi = await e.t.supabaseAs(
    await e.t.accessToken(await e.t.createUser({ tenantId: e.tenantId, role: 'operator' })),
  );
});
afterAll(() => e?.close());

/** A target's card on the runner screen. */
const cardOf = (page: Page, target: string): Locator =>
  page.getByRole('region', { name: target, exact: true });

/** The count a card shows for one status ("queued", "succeeded", …). */
const countOf = (card: Locator, status: string) =>
  card
    .locator('.runner-count')
    .filter({ has: card.page().getByText(status, { exact: true }) })
    .locator('dd')
    .textContent();

const tileOf = (card: Locator, label: string) =>
  card.locator('.tile').filter({ hasText: label }).locator('dd').textContent();

async function createTask(action: string, payload: Record<string, unknown> = {}) {
  const { data, error } = await operatorApi.rpc('create_task', {
    p_tenant_id: e.tenantId,
    p_target: 'apex-sales',
    p_action: action,
    p_payload: payload,
  });
  expect(error).toBeNull();
  return (data as { task: { id: string } }).task.id;
}

async function stored(taskId: string) {
  const [row] = await e.t.db.sql`select status, attempts from public.tasks where id = ${taskId}`;
  return row as { status: string; attempts: number };
}

/** Nothing on the page is wider than the screen (tables scroll inside their frames). */
async function fitsWidth(page: Page, width: number) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
    width,
  );
}

describe('the runner screen', () => {
  it('pauses apex-sales so a running worker gets nothing, and resumes it so the task runs live', async () => {
    const operator = await e.user('operator');
    const page = await e.page();
    await e.signIn(page, operator, '/omnidash/runner');
    await page.getByRole('heading', { level: 1, name: 'Runner' }).waitFor();
    const apex = cardOf(page, 'apex-sales');
    await apex.getByRole('button', { name: 'Pause apex-sales' }).click();
    await expect.poll(() => apex.getByTestId('runner-state').textContent(), LIVE).toBe('Paused');
    await apex.getByRole('status').getByText('apex-sales is paused').waitFor({ state: 'attached' });
    const [row] = await e.t.db.sql`
      select paused from public.task_targets where tenant_id = ${e.tenantId} and target = 'apex-sales'`;
    expect(row!.paused).toBe(true);

    const taskId = await createTask('echo', { message: 'held' });
    await expect.poll(() => countOf(apex, 'queued'), LIVE).toBe('1');
    ensureWorker();
    // The worker has asked (and is seen online, live) ...
    await expect.poll(() => tileOf(apex, 'Workers online'), { timeout: 30_000 }).toBe('1');
    const [claims] = await e.t.db.sql`
      select count(*)::int as n from public.workers
      where tenant_id = ${e.tenantId} and source = 'apex-sales' and last_claim_at is not null`;
    expect(claims!.n).toBe(1);
    // ... and got nothing: the task waits, never attempted.
    expect(await stored(taskId)).toEqual({ status: 'queued', attempts: 0 });
    await e.screenshot(page, 'runner-paused');

    await apex.getByRole('button', { name: 'Resume apex-sales' }).click();
    await expect.poll(() => apex.getByTestId('runner-state').textContent(), LIVE).toBe('Running');
    // No reload: the counts move as the worker runs it.
    await expect.poll(() => countOf(apex, 'succeeded'), { timeout: 30_000 }).toBe('1');
    expect(await countOf(apex, 'queued')).toBe('0');
    expect(await stored(taskId)).toEqual({ status: 'succeeded', attempts: 1 });
    expect(ensureWorker().output()).toMatch(/succeeded/);
    await e.screenshot(page, 'runner-resumed');
  }, 90_000);

  it('lets an admin set a limit and watch running against max, then lift it', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/runner');
    const apex = cardOf(page, 'apex-sales');
    const form = apex.getByRole('form', { name: 'New action limit' });
    await form.getByLabel('Action').fill('call_lead');
    await form.getByLabel('Max running').fill('0');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await form.getByText('Must be from 1 to 1000.').waitFor();
    await form.getByLabel('Max running').fill('1');
    await form.getByRole('button', { name: 'Set limit' }).click();
    const limitRow = apex.locator('tr[data-action="call_lead"]');
    await expect.poll(() => limitRow.getByRole('cell').nth(1).textContent(), LIVE).toBe('0 / 1');

    // Two calls of 2 s each with a running worker: one at a time, shown live.
    ensureWorker();
    const calls = [
      await createTask('call_lead', { lead_id: 'lead-101' }),
      await createTask('call_lead', { lead_id: 'lead-102' }),
    ];
    await expect
      .poll(() => limitRow.getByRole('cell').nth(1).textContent(), { timeout: 30_000 })
      .toBe('1 / 1 (full)');
    await e.screenshot(page, 'runner-limit-full');
    const [running] = await e.t.db.sql`
      select count(*)::int as n from public.tasks where id in ${e.t.db.sql(calls)} and status = 'running'`;
    expect(running!.n).toBeLessThanOrEqual(1);
    await expect
      .poll(async () => (await Promise.all(calls.map(stored))).map((task) => task.status), {
        timeout: 30_000,
      })
      .toEqual(['succeeded', 'succeeded']);

    await limitRow.getByLabel('Max running for call_lead').fill('3');
    await limitRow.getByRole('button', { name: 'Save call_lead limit' }).click();
    await expect.poll(() => limitRow.getByRole('cell').nth(1).textContent(), LIVE).toBe('0 / 3');
    await limitRow.getByRole('button', { name: 'Lift call_lead limit' }).click();
    await expect.poll(() => limitRow.count(), LIVE).toBe(0);
    await apex.getByText('No limits').waitFor();
  }, 90_000);

  it('shows a viewer every number but every control disabled, with the reason', async () => {
    // A target with tasks but no switch row, and a limit to see.
    await e.t.db.sql`
      insert into public.tasks (tenant_id, target, action) values (${e.tenantId}, 'crm-sync', 'push')`;
    await e.t.db.sql`
      insert into public.task_action_limits (tenant_id, target, action, max_running)
      values (${e.tenantId}, 'lead-gen', 'score_lead', 4)`;
    const viewer = await e.user('viewer');
    const page = await e.page();
    await e.signIn(page, viewer, '/omnidash/runner');
    const crm = cardOf(page, 'crm-sync');
    await expect.poll(() => countOf(crm, 'queued'), LIVE).toBe('1');
    const leadGen = cardOf(page, 'lead-gen');
    await expect
      .poll(() =>
        leadGen.locator('tr[data-action="score_lead"]').getByRole('cell').nth(1).textContent(),
      )
      .toBe('0 / 4');

    const controls = page.locator('.runner-target').locator('button, input');
    expect(await controls.count()).toBeGreaterThanOrEqual(3 * 4);
    for (const control of await controls.all()) {
      expect(await control.isDisabled()).toBe(true);
      expect(await control.getAttribute('title')).toMatch(
        /^Needs the (operator|admin) role in this tenant\.$/,
      );
    }
    expect(
      await cardOf(page, 'apex-sales')
        .getByRole('button', { name: 'Pause apex-sales' })
        .getAttribute('title'),
    ).toBe('Needs the operator role in this tenant.');
    await crm.getByText('You can see the switch but not flip it.').waitFor();
    await e.screenshot(page, 'runner-viewer');

    // The database refuses the viewer whatever the page shows.
    const viewerApi = await e.t.supabaseAs(
      await e.t.accessToken(await e.t.createUser({ tenantId: e.tenantId, role: 'viewer' })),
    );
    const { error } = await viewerApi.rpc('set_target_paused', {
      p_tenant_id: e.tenantId,
      p_target: 'crm-sync',
      p_paused: true,
    });
    expect(error?.message).toBe(
      'This action needs the operator role in this tenant; you are viewer.',
    );
  });

  it('fits a phone', async () => {
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, e.admin, '/omnidash/runner');
    await expect.poll(() => countOf(cardOf(page, 'apex-sales'), 'succeeded')).not.toBe(null);
    await fitsWidth(page, 390);
    await e.screenshot(page, 'runner-phone');
  });
});
