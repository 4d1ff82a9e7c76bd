import type { SupabaseClient } from '@supabase/supabase-js';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

/** Counts and states here follow Realtime and a refetch throttled to once a second: allow for a loaded machine. */
const LIVE = { timeout: 10_000 };

let e: E2E;
let operatorApi: SupabaseClient;

beforeAll(async () => {
  e = await startE2E();
  operatorApi = await e.t.supabaseAs(
    await e.t.accessToken(await e.t.createUser({ tenantId: e.tenantId, role: 'operator' })),
  );
});
afterAll(() => e?.close());

/** One call to the port with the demo apex-sales key: what a worker does. */
async function port(path: string, body: unknown) {
  const response = await fetch(`${e.t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${e.demoKey('apex-sales').apiKey}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return (await response.json()) as any;
}

/**
 * `n` echo tasks with max_attempts 1, each failed by a worker on its only
 * attempt: dead letters, oldest failure first.
 */
async function deadLetters(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { data, error } = await operatorApi.rpc('create_task', {
      p_tenant_id: e.tenantId,
      p_target: 'apex-sales',
      p_action: 'echo',
      p_payload: { n: i },
      p_max_attempts: 1,
    });
    expect(error).toBeNull();
    ids.push((data as { task: { id: string } }).task.id);
  }
  const claim = await port('/tasks/claim', { worker_id: 'flaky-worker', max_tasks: 100 });
  expect(claim.tasks.map((task: { id: string }) => task.id)).toEqual(ids);
  for (const id of ids) {
    const done = await port(`/tasks/${id}/complete`, {
      worker_id: 'flaky-worker',
      status: 'failed',
      error: 'smtp down',
    });
    expect(done.task.status).toBe('failed');
  }
  return ids;
}

const listOf = (page: Page) => page.getByRole('region', { name: 'Failed tasks' });
const rowOf = (page: Page, taskId: string): Locator =>
  listOf(page).locator(`tr[data-task-id="${taskId}"]`);

async function statuses(ids: string[]) {
  const rows = await e.t.db.sql`
    select id, status from public.tasks where id in ${e.t.db.sql(ids)}`;
  return ids.map((id) => rows.find((row) => row.id === id)!.status as string);
}

describe('the dead-letters screen', () => {
  it('lists tasks that used their only attempt, and retries two selected ones and a single one until they succeed', async () => {
    const ids = await deadLetters(4);
    const operator = await e.user('operator');
    const page = await e.page();
    await e.signIn(page, operator, '/omnidash/dead-letters');
    await page.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();

    // Latest failure first, with why.
    const list = listOf(page);
    await expect
      .poll(async () =>
        list
          .locator('tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id'))),
      )
      .toEqual([...ids].reverse());
    await rowOf(page, ids[0]!).getByText('All 1 attempt used.').waitFor();
    await rowOf(page, ids[0]!).getByText('smtp down').waitFor();
    await e.screenshot(page, 'dead-letters-list');

    // Select two and retry them behind the confirmation.
    await list.getByLabel(`Select task ${ids[0]!.slice(-8)}`).check();
    await list.getByLabel(`Select task ${ids[1]!.slice(-8)}`).check();
    expect(
      await list
        .getByLabel('Select all on this page')
        .evaluate((box) => (box as HTMLInputElement).indeterminate),
    ).toBe(true);
    await list.getByRole('button', { name: 'Retry selected (2)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry 2 failed tasks?' });
    await e.screenshot(page, 'dead-letters-confirm');
    await dialog.getByRole('button', { name: 'Retry tasks' }).click();
    await expect
      .poll(() => list.getByRole('status').textContent())
      .toBe('Retried 2 tasks: queued to run again with fresh attempts.');
    expect(await statuses(ids)).toEqual(['queued', 'queued', 'failed', 'failed']);
    // They leave the list live.
    await expect.poll(() => list.locator('tbody tr').count(), LIVE).toBe(2);

    // One by its own button.
    await rowOf(page, ids[2]!)
      .getByRole('button', { name: `Retry task ${ids[2]!.slice(-8)}` })
      .click();
    await expect
      .poll(() => list.getByRole('status').textContent())
      .toBe('Retried 1 task: queued to run again with fresh attempts.');

    // The last one: selected with select-all, but retried by someone else
    // before the confirmation: reported skipped, not an error.
    await expect.poll(() => list.locator('tbody tr').count(), LIVE).toBe(1);
    await list.getByLabel('Select all on this page').check();
    await list.getByRole('button', { name: 'Retry selected (1)' }).click();
    const { error } = await operatorApi.rpc('retry_task', { p_task_id: ids[3] });
    expect(error).toBeNull();
    await list.getByText('No failed tasks.').waitFor();
    await page
      .getByRole('dialog', { name: 'Retry 1 failed task?' })
      .getByRole('button', { name: 'Retry tasks' })
      .click();
    await expect
      .poll(() => list.getByRole('status').textContent())
      .toBe(`Skipped 1 task no longer failed: ${ids[3]!.slice(-8)} (queued).`);

    // A real worker runs all four to the end.
    const worker = e.startWorker('apex-sales');
    await expect.poll(() => statuses(ids), { timeout: 30_000 }).toEqual(Array(4).fill('succeeded'));
    await e.screenshot(page, 'dead-letters-retried');
    // The next cases fail tasks on purpose: no worker may take them.
    await worker.stop();
  }, 90_000);

  it('links each dead letter to its task, filters by target, and pages', async () => {
    const ids = await deadLetters(27);
    await e.t.db.sql`
      insert into public.tasks (tenant_id, target, action, status, error, attempts, max_attempts, finished_at)
      values (${e.tenantId}, 'lead-gen', 'score_lead', 'failed', 'lease_expired', 2, 2, now())`;
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/dead-letters?page=2');
    const list = listOf(page);
    await expect.poll(() => list.locator('tbody tr').count(), LIVE).toBe(3);
    await list.getByText('26–28 of 28 · page 2 of 2').waitFor();
    await list.getByLabel('Target').selectOption('apex-sales');
    await expect.poll(() => new URL(page.url()).searchParams.get('page'), LIVE).toBe(null);
    await list.getByText('1–25 of 27 · page 1 of 2').waitFor();
    await list.getByLabel('Target').selectOption('lead-gen');
    await list.getByText('The lease expired on the last attempt (2 of 2).').waitFor();

    await list.getByLabel('Target').selectOption('apex-sales');
    await rowOf(page, ids[26]!).getByRole('link', { name: 'echo' }).click();
    await page.getByRole('heading', { level: 1, name: /^Task echo/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/omnidash/tasks/${ids[26]}`);
  }, 60_000);

  it('shows a viewer the list with retry disabled, and fits a phone', async () => {
    const viewer = await e.user('viewer');
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, viewer, '/omnidash/dead-letters');
    const list = listOf(page);
    await list.locator('tbody tr').first().waitFor();
    const controls = list.locator('tbody input, tbody button, thead input');
    expect(await controls.count()).toBeGreaterThan(2);
    for (const control of await controls.all()) {
      expect(await control.isDisabled()).toBe(true);
      expect(await control.getAttribute('title')).toBe('Needs the operator role in this tenant.');
    }
    expect(await list.getByRole('button', { name: 'Retry selected' }).isDisabled()).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await e.screenshot(page, 'dead-letters-phone');
  });
});
