import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

const row = (page: Page, name: string) => page.locator(`tr[data-schedule="${name}"]`);

/** The scheduler's view of a schedule, straight from Postgres. */
async function stored(name: string) {
  const [schedule] = await e.t.db.sql`
    select id, cron, timezone, enabled, next_run_at, last_task_id
    from public.task_schedules where name = ${name}`;
  return schedule;
}

describe('the Schedules screen', () => {
  it('creates a schedule with a live preview, shows its next run, and shows the task it fires, live', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/schedules');
    await page.getByText('No schedules yet: create one above.').waitFor();
    const form = page.getByRole('form', { name: 'New schedule' });

    await form.getByLabel('Name').fill('Every five');
    await form.getByLabel('Cron').fill('0 25 * * *');
    // croner's own word on it, as the operator types.
    await form.getByText('Invalid value for hour: 25.').waitFor();
    await form.getByRole('button', { name: 'Create schedule' }).click();
    expect(await form.getByLabel('Cron').getAttribute('aria-invalid')).toBe('true');
    expect(await stored('Every five')).toBeUndefined();

    await form.getByLabel('Cron').fill('*/5 * * * *');
    await form.getByLabel('Time zone').selectOption('Europe/London');
    await form.getByText(/^Next due: .*Europe\/London · .*Europe\/London · /).waitFor();
    await form.getByLabel('Target').selectOption('apex-sales');
    await form.getByLabel('Action').fill('echo');
    await form.getByLabel('Payload').fill('{"from": "a schedule"}');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('status').filter({ hasText: 'Schedule Every five created.' }).waitFor();

    const every5 = row(page, 'Every five');
    await every5.getByText('*/5 * * * *').waitFor();
    // The local scheduler times it within a tick; the row follows over Realtime.
    await every5.locator('.schedule-next time').waitFor();
    const schedule = await stored('Every five');
    expect(schedule).toMatchObject({
      cron: '*/5 * * * *',
      timezone: 'Europe/London',
      enabled: true,
    });
    expect(schedule!.next_run_at).not.toBeNull();
    const shown = await every5.locator('.schedule-next time').getAttribute('datetime');
    expect(new Date(shown!)).toEqual(schedule!.next_run_at);
    await every5.getByText('Not yet').waitFor();

    // Due now, as if five minutes had passed: the scheduler fires it and the row shows the task.
    await e.t.db
      .sql`update public.task_schedules set next_run_at = now() where id = ${schedule!.id}`;
    const taskLink = every5.getByRole('link', { name: 'task' });
    await taskLink.waitFor();
    await e.screenshot(page, 'schedules-fired');
    await taskLink.click();
    await page.getByRole('heading', { level: 1, name: /echo/ }).waitFor();
    const fired = await stored('Every five');
    expect(page.url()).toContain(`/omnidash/tasks/${fired!.last_task_id}`);
  });

  it('switches a schedule off and on, edits it and deletes it', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/schedules');
    const form = page.getByRole('form', { name: 'New schedule' });
    await form.getByLabel('Name').fill('Nightly refresh');
    await form.getByLabel('Cron').fill('0 3 * * *');
    await form.getByLabel('Target').selectOption('lead-gen');
    await form.getByLabel('Action').fill('refresh_queue');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    const nightly = row(page, 'Nightly refresh');
    await nightly.locator('.schedule-next time').waitFor();

    const toggle = nightly.getByRole('switch', { name: 'Nightly refresh on' });
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await nightly.getByText('Off', { exact: true }).waitFor();
    expect(await stored('Nightly refresh')).toMatchObject({ enabled: false, next_run_at: null });
    await toggle.click();
    await nightly.locator('.schedule-next time').waitFor();

    await nightly.getByRole('button', { name: 'Edit Nightly refresh' }).click();
    const edit = page.getByRole('form', { name: 'Edit Nightly refresh' });
    await edit.getByLabel('Cron').fill('@hourly');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Schedule Nightly refresh saved.' }).waitFor();
    await nightly.getByText('@hourly').waitFor();
    expect(await stored('Nightly refresh')).toMatchObject({ cron: '@hourly' });

    await nightly.getByRole('button', { name: 'Delete Nightly refresh' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the schedule Nightly refresh?' });
    await dialog.getByRole('button', { name: 'Delete schedule' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Schedule Nightly refresh deleted.' })
      .waitFor();
    await nightly.waitFor({ state: 'detached' });
    expect(await stored('Nightly refresh')).toBeUndefined();
  });

  it('shows a viewer the schedules with every control disabled, on a phone screen', async () => {
    const viewer = await e.user('viewer');
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, viewer, '/omnidash/schedules');
    const every5 = row(page, 'Every five');
    await every5.waitFor();
    expect(await every5.getByRole('switch').isDisabled()).toBe(true);
    expect(await every5.getByRole('button', { name: 'Edit Every five' }).isDisabled()).toBe(true);
    expect(await every5.getByRole('button', { name: 'Delete Every five' }).isDisabled()).toBe(true);
    await page.getByText('You can see schedules but not change them.').waitFor();
    expect(await page.getByRole('button', { name: 'Create schedule' }).isDisabled()).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await e.screenshot(page, 'schedules-viewer-phone');
  });
});
