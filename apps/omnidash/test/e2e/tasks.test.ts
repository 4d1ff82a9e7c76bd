import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

let e: E2E;
let worker: ReturnType<E2E['startWorker']> | null = null;

beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

/** The apex-sales agent as a worker, started once and kept for the later cases. */
function ensureWorker() {
  worker ??= e.startWorker('apex-sales');
  return worker;
}

async function taskCount(): Promise<number> {
  const [row] = await e.t.db.sql`select count(*)::int as n from public.tasks`;
  return row!.n as number;
}

/** Fills and sends the "Create task" form; returns the new task's id, read from the confirmation's link. */
async function createThroughForm(
  page: Page,
  task: { action: string; payload: string; requireApproval?: boolean },
): Promise<string> {
  const form = page.getByRole('form', { name: 'Create task' });
  await form.getByLabel('Target').selectOption('apex-sales');
  await form.getByLabel('Action').fill(task.action);
  await form.getByLabel('Payload').fill(task.payload);
  await form.getByLabel('Require approval').setChecked(task.requireApproval ?? false);
  await form.getByRole('button', { name: 'Create task' }).click();
  const link = form.getByRole('status').getByRole('link');
  await link.waitFor();
  const href = await link.getAttribute('href');
  return href!.split('/').at(-1)!;
}

/** The list row of a task (rows show the id's last 8 characters). */
function rowOf(page: Page, taskId: string): Locator {
  return page
    .getByRole('region', { name: 'All tasks' })
    .getByRole('row')
    .filter({ hasText: taskId.slice(-8) });
}

const statusOf = (row: Locator) => row.getByRole('cell').nth(2).textContent();

describe('the tasks screen', () => {
  it('creates an echo task for apex-sales that reaches succeeded live as a worker runs it', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/tasks');
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();

    const taskId = await createThroughForm(page, {
      action: 'echo',
      payload: '{"message":"hello"}',
    });
    const row = rowOf(page, taskId);
    await expect.poll(() => statusOf(row)).toBe('queued');

    ensureWorker();
    // No reload: Realtime moves the row on.
    await expect.poll(() => statusOf(row), { timeout: 30_000 }).toBe('succeeded');

    await row.getByRole('link', { name: 'echo' }).click();
    await page.getByRole('heading', { level: 1, name: /^Task echo/ }).waitFor();
    await expect
      .poll(() => page.getByLabel('Task output').textContent())
      .toBe(JSON.stringify({ message: 'hello' }, null, 2));
    await expect.poll(() => page.getByLabel('Task params').textContent()).toContain('"hello"');
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.getByText('Attempt 1 succeeded').waitFor();
    await timeline.getByText('Attempt 1 started on apex-sales-e2e').waitFor();
    await page
      .getByRole('region', { name: 'Attempts' })
      .getByRole('cell', { name: 'apex-sales-e2e' })
      .waitFor();
    await e.screenshot(page, 'tasks-detail-succeeded');

    // Back keeps the list where it was.
    await page.getByRole('link', { name: '← All tasks' }).click();
    await expect.poll(() => statusOf(rowOf(page, taskId))).toBe('succeeded');
    await e.screenshot(page, 'tasks-list-succeeded');
  }, 90_000);

  it('runs a task once it is approved, and cancels a rejected one with the reason', async () => {
    ensureWorker();
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/tasks');

    const approvedId = await createThroughForm(page, {
      action: 'echo',
      payload: '{"message":"approve me"}',
      requireApproval: true,
    });
    const approvedRow = rowOf(page, approvedId);
    await expect.poll(() => statusOf(approvedRow)).toBe('waiting approval');
    await approvedRow.getByRole('button', { name: /^Approve/ }).click();
    // The Approve button is gone: focus lands on what happened, which is announced.
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
    await expect.poll(focused).toMatch(/^Task \S+ approved: it is queued to run\.$/);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('status');
    await expect.poll(() => statusOf(approvedRow), { timeout: 30_000 }).toBe('succeeded');

    const rejectedId = await createThroughForm(page, {
      action: 'echo',
      payload: '{"message":"reject me"}',
      requireApproval: true,
    });
    const rejectedRow = rowOf(page, rejectedId);
    await expect.poll(() => statusOf(rejectedRow)).toBe('waiting approval');
    await rejectedRow.getByRole('button', { name: /^Reject/ }).click();
    const dialog = page.getByRole('dialog', { name: /^Reject task/ });
    await dialog.getByLabel('Reason (optional)').fill('not this week');
    await e.screenshot(page, 'tasks-reject-dialog');
    await dialog.getByRole('button', { name: 'Reject task' }).click();
    await expect.poll(() => statusOf(rejectedRow)).toBe('canceled');
    await expect.poll(focused).toMatch(/^Task \S+ rejected\.$/);
    await rejectedRow.getByText('rejected: not this week').waitFor();
    expect(await dialog.isVisible()).toBe(false);

    const [stored] = await e.t.db
      .sql`select status, error, attempts from public.tasks where id = ${rejectedId}`;
    expect(stored).toEqual({ status: 'canceled', error: 'rejected: not this week', attempts: 0 });
    await e.screenshot(page, 'tasks-approval');
  }, 90_000);

  it('says exactly what is wrong with invalid JSON, and creates nothing', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/tasks');
    const before = await taskCount();
    const form = page.getByRole('form', { name: 'Create task' });
    const payload = form.getByLabel('Payload');
    const priority = form.getByLabel('Priority');
    const send = form.getByRole('button', { name: 'Create task' });
    const isFocused = (field: Locator) =>
      field.evaluate((element) => element === document.activeElement);

    // A wrong field among the folded options unfolds them and takes the focus.
    await form.getByLabel('Action').fill('echo');
    await form.getByText('More options').click();
    await priority.fill('11');
    await form.getByText('More options').click();
    await send.click();
    await form.getByText('Must be from 1 to 10.').waitFor();
    expect(await isFocused(priority)).toBe(true);
    await priority.fill('5');
    await expect.poll(() => form.getByText('Must be from 1 to 10.').count()).toBe(0);

    await payload.fill('[1, 2]');
    await send.click();
    await form
      .getByText('The payload must be a JSON object, like {"lead_id": "42"}, not an array.')
      .waitFor();
    // A fix clears the message as it is typed.
    await payload.fill('{"message": "hello", "to": "world"}');
    await expect.poll(() => payload.getAttribute('aria-invalid')).toBe(null);

    await payload.fill('{\n  "message": "hello"\n  "to": "world"\n}');
    await send.click();
    await expect.poll(() => payload.getAttribute('aria-invalid')).toBe('true');
    // The message is tied to the field, and says where and what.
    const describedBy = (await payload.getAttribute('aria-describedby'))!.split(' ');
    const error = page.locator(`#${describedBy.find((id) => id.endsWith('-error'))}`);
    await expect
      .poll(() => error.textContent())
      .toBe('Line 3, column 3: expected a comma or }, found "to"');
    expect(await isFocused(payload)).toBe(true);
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await taskCount()).toBe(before);
    await e.screenshot(page, 'tasks-invalid-json');
  });

  it('lets a viewer see every task but change none, and the RPC refuses the viewer too', async () => {
    // Something for each kind of control: a task waiting for approval, a failed one.
    const operator = await e.t.supabaseAs(
      await e.t.accessToken(await e.t.createUser({ tenantId: e.tenantId, role: 'operator' })),
    );
    const waiting = await operator.rpc('create_task', {
      p_tenant_id: e.tenantId,
      p_target: 'lead-gen',
      p_action: 'echo',
      p_require_approval: true,
    });
    expect(waiting.error).toBeNull();
    const waitingId = (waiting.data as { task: { id: string } }).task.id;
    await e.t.db.sql`
      insert into public.tasks (tenant_id, target, action, status, error, finished_at)
      values (${e.tenantId}, 'lead-gen', 'score_lead', 'failed', 'no leads', now())`;

    const viewer = await e.user('viewer');
    const page = await e.page();
    await e.signIn(page, viewer, '/omnidash/tasks');
    const list = page.getByRole('region', { name: 'All tasks' });
    await expect.poll(() => statusOf(rowOf(page, waitingId))).toBe('waiting approval');
    await list.getByText('no leads').waitFor();

    // Every control that would change something is disabled, with the reason.
    const rowButtons = list.getByRole('row').getByRole('button');
    expect(await rowButtons.count()).toBeGreaterThanOrEqual(4);
    for (const button of await rowButtons.all()) {
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toBe('Needs the operator role in this tenant.');
    }
    const create = page.getByRole('form', { name: 'Create task' });
    expect(await create.getByRole('button', { name: 'Create task' }).isDisabled()).toBe(true);
    expect(await create.getByLabel('Payload').isDisabled()).toBe(true);
    await create.getByText('You can see tasks but not create them.').waitFor();
    const quick = page.getByRole('form', { name: 'Quick dispatch' });
    expect(await quick.getByRole('button', { name: 'Dispatch' }).isDisabled()).toBe(true);
    // Filters are reading, not changing: they work.
    expect(await list.getByLabel('Status').isDisabled()).toBe(false);

    // The database refuses the viewer's own session, whatever the page shows.
    const answer = await page.evaluate(async (tenantId) => {
      const config = (
        window as unknown as Record<string, { supabaseUrl: string; supabaseAnonKey: string }>
      ).__OMNIHUB_CONFIG__!;
      const stored = Object.keys(localStorage).find((key) => key.endsWith('-auth-token'))!;
      const { access_token: token } = JSON.parse(localStorage.getItem(stored)!) as {
        access_token: string;
      };
      const response = await fetch(`${config.supabaseUrl}/rest/v1/rpc/create_task`, {
        method: 'POST',
        headers: {
          apikey: config.supabaseAnonKey,
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ p_tenant_id: tenantId, p_target: 'apex-sales', p_action: 'echo' }),
      });
      return { status: response.status, body: (await response.json()) as { message: string } };
    }, e.tenantId);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toBe(
      'This action needs the operator role in this tenant; you are viewer.',
    );
    const [stored] = await e.t.db.sql`select status from public.tasks where id = ${waitingId}`;
    expect(stored!.status).toBe('waiting_approval');
    await e.screenshot(page, 'tasks-viewer');
  });

  it('follows a quick dispatch to succeeded and shows its output', async () => {
    ensureWorker();
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/tasks');
    const quick = page.getByRole('form', { name: 'Quick dispatch' });
    await quick.getByLabel('Target').selectOption('apex-sales');
    await quick.getByLabel('Action').fill('echo');
    await quick.getByLabel('Payload').fill('{"message": "quick"}');
    await quick.getByRole('button', { name: 'Dispatch' }).click();

    const status = quick.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/is succeeded$/);
    await expect
      .poll(() => quick.getByLabel('Output of the dispatched task').textContent())
      .toBe(JSON.stringify({ message: 'quick' }, null, 2));
    // The list shows the same task, as it is now.
    const taskId = (await status.getByRole('link').getAttribute('href'))!.split('/').at(-1)!;
    await expect.poll(() => statusOf(rowOf(page, taskId))).toBe('succeeded');
    await e.screenshot(page, 'tasks-quick-dispatch');
  }, 60_000);

  it('keeps filters and page in the address, and fits a phone', async () => {
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, e.admin, '/omnidash/tasks');
    const list = page.getByRole('region', { name: 'All tasks' });
    await list.getByRole('row').nth(1).waitFor();
    await list.getByLabel('Status').selectOption('succeeded');
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('succeeded');
    await list.getByLabel('Target').selectOption('apex-sales');
    await expect.poll(() => new URL(page.url()).searchParams.get('target')).toBe('apex-sales');
    // The filtered page is fetched afresh: allow for a loaded machine.
    await expect
      .poll(() => list.getByRole('row').locator('[data-status]').allTextContents(), {
        timeout: 10_000,
      })
      .toSatisfy(
        (statuses: string[]) =>
          statuses.length > 0 && statuses.every((text) => text === 'succeeded'),
      );
    await page.reload();
    await list.getByRole('row').nth(1).waitFor();
    expect(await list.getByLabel('Status').inputValue()).toBe('succeeded');
    expect(await list.getByLabel('Target').inputValue()).toBe('apex-sales');
    await page.goBack();
    await expect.poll(() => list.getByLabel('Target').inputValue(), { timeout: 10_000 }).toBe('');
    expect(await list.getByLabel('Status').inputValue()).toBe('succeeded');

    // Nothing wider than the screen but the table, which scrolls inside its frame.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(390);
    await list.scrollIntoViewIfNeeded();
    await e.screenshot(page, 'tasks-phone');
  });

  it('says "1,000+" for a list past the exact count, pages on, and counts a narrower filter', async () => {
    // A tenant of its own with 1,030 tasks (every 35th failed), each a second older than the last.
    const [tenant] = await e.t.db.sql`select omnilink.ensure_tenant('long-list') as id`;
    const tenantId = tenant!.id as string;
    await e.t.db.sql`
      insert into public.tasks (tenant_id, target, action, status, created_at)
      select ${tenantId}, 'lead-gen', 'bulk',
             case when n % 35 = 0 then 'failed' else 'succeeded' end,
             now() - make_interval(secs => n)
      from generate_series(1, 1030) n`;
    const viewer = await e.t.createUser({ tenantId, role: 'viewer' });
    const page = await e.page();
    await e.signIn(page, viewer, '/omnidash/tasks');
    const list = page.getByRole('region', { name: 'All tasks' });
    const pages = list.getByRole('navigation', { name: 'Pages of tasks' });
    await list.getByText('1,000+ in all').waitFor();
    await pages.getByText('1–25 of 1,000+ · page 1', { exact: true }).waitFor();
    await pages.getByRole('button', { name: 'Next page' }).click();
    await pages.getByText('26–50 of 1,000+ · page 2', { exact: true }).waitFor();

    await list.getByLabel('Status').selectOption('failed');
    await list.getByText('29 matching').waitFor();
    await pages.getByText('1–25 of 29 · page 1 of 2', { exact: true }).waitFor();
    await e.screenshot(page, 'tasks-long-list');
  });
});
