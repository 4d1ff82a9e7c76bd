import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTaskChain } from '../../src/data/tasks/tasks-chain-create-mutation.ts';
import { leadGenRunSteps } from '../../src/screens/tasks/lead-gen-run-form.ts';
import { startE2E, type E2E } from './harness.ts';

/** Counts and states here follow Realtime and a refetch throttled to once a second: allow for a loaded machine. */
const LIVE = { timeout: 10_000 };

let e: E2E;
let worker: ReturnType<E2E['startWorker']> | null = null;

/** The Lead-Gen agent as a worker, started once and kept for the later cases. */
function ensureWorker() {
  worker ??= e.startWorker('lead-gen');
  return worker;
}

beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

const PHONE = { width: 390, height: 844 };

/** The statuses a chain list shows, in its order. */
const statuses = (list: Locator) => list.locator('[data-status]').allTextContents();

function runCard(page: Page): Locator {
  return page.getByRole('form', { name: 'Discovery → Enrichment → Scoring' });
}

describe('the one-step Lead-Gen run', () => {
  it('starts Discovery → Enrichment → Scoring, follows it live to the end and shows the scored leads', async () => {
    const page = await e.page();
    await e.signIn(page, await e.user('operator'), '/omnidash/tasks');
    const card = runCard(page);
    await card.getByLabel('Industries').fill('SaaS, FinTech');
    await card.getByLabel('Locations').fill('UK, Ireland');
    await card.getByLabel('Employees from').fill('10');
    await card.getByLabel('Employees to').fill('500');
    await card.getByLabel('Companies to find').fill('5');
    await card.getByLabel('Min quality score').fill('3.5');
    await card.getByRole('button', { name: 'Start run' }).click();

    // No worker yet: the three tasks wait, in order.
    const progress = card.getByRole('list', { name: 'Run progress' });
    await expect.poll(() => statuses(progress), LIVE).toEqual(['queued', 'queued', 'queued']);
    expect(await progress.getByRole('link').allTextContents()).toEqual([
      'discover_leads',
      'enrich_lead',
      'score_lead',
    ]);

    ensureWorker();
    // No reload: Realtime moves every step on.
    await expect
      .poll(() => statuses(progress), { timeout: 60_000 })
      .toEqual(['succeeded', 'succeeded', 'succeeded']);
    await e.screenshot(page, 'lead-gen-run-card-succeeded');

    const link = card.getByRole('status').getByRole('link');
    const scoringId = (await link.getAttribute('href'))!.split('/').at(-1)!;
    await link.click();
    await page.getByRole('heading', { level: 1, name: /^Task score_lead/ }).waitFor();

    const chain = page.getByRole('list', { name: 'Task chain' });
    await expect.poll(() => statuses(chain), LIVE).toEqual(['succeeded', 'succeeded', 'succeeded']);
    await chain.getByText('this task').waitFor();

    // The records table lists the leads the scoring task returned, best first, with provenance.
    const [row] = await e.t.db.sql`select output from public.tasks where id = ${scoringId}`;
    const records = (row!.output as { records: { company: string; quality_score: number }[] })
      .records;
    expect(records).toHaveLength(5);
    const table = page.getByRole('table', { name: 'Task output: records' });
    const headers = await table.getByRole('columnheader').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['company', 'quality_score', 'provenance']));
    const rows = table.getByRole('row');
    await expect.poll(() => rows.count(), LIVE).toBe(records.length + 1);
    const scoreColumn = headers.indexOf('quality_score');
    const companyColumn = headers.indexOf('company');
    for (const [index, record] of records.entries()) {
      const cells = await rows
        .nth(index + 1)
        .getByRole('cell')
        .allTextContents();
      expect(cells[companyColumn]).toBe(record.company);
      expect(cells[scoreColumn]).toBe(String(record.quality_score));
      expect(cells.at(-1)).toContain('lead-gen-quality-formula');
    }
    const metadata = page.getByLabel('Task output: metadata');
    expect(await metadata.textContent()).toContain('items updated5');
    await e.screenshot(page, 'lead-gen-run-scoring-detail');

    // The same page on a phone.
    const phone = await e.page(PHONE);
    await e.signIn(phone, e.admin, `/omnidash/tasks/${scoringId}`);
    await expect
      .poll(() => statuses(phone.getByRole('list', { name: 'Task chain' })))
      .toEqual(['succeeded', 'succeeded', 'succeeded']);
    await phone.getByRole('table', { name: 'Task output: records' }).waitFor();
    await e.screenshot(phone, 'lead-gen-run-scoring-detail-phone');

    // And the raw JSON is one click away.
    await page.getByRole('button', { name: 'Raw JSON' }).click();
    expect(await page.getByLabel('Task output', { exact: true }).textContent()).toContain(
      '"provenance"',
    );
  }, 120_000);

  it('shows enrichment and scoring canceled with dependency_failed when discovery fails', async () => {
    ensureWorker();
    // An employee range upside down: the handler refuses it for good. (The card would not send it.)
    const user = await e.t.createUser({ tenantId: e.tenantId, role: 'operator' });
    const client = await e.t.supabaseAs(await e.t.accessToken(user));
    const { tasks } = await createTaskChain(
      client,
      e.tenantId,
      leadGenRunSteps(
        {
          goal_criteria: { employee_count: { min: 500, max: 10 } },
          companies_to_find: 5,
          min_quality_score: 4,
        },
        'lead-gen-run-failing',
      ),
    );

    const page = await e.page();
    await e.signIn(page, await e.user('viewer'), `/omnidash/tasks/${tasks[1]!.id}`);
    const chain = page.getByRole('list', { name: 'Task chain' });
    await expect
      .poll(() => statuses(chain), { timeout: 60_000 })
      .toEqual(['failed', 'canceled', 'canceled']);
    await expect.poll(() => chain.getByText('dependency_failed').count(), LIVE).toBe(2);
    expect(await chain.getByRole('listitem').first().textContent()).toMatch(
      /min must not be above max/,
    );
    await e.screenshot(page, 'lead-gen-run-dependency-failed');

    const phone = await e.page(PHONE);
    await e.signIn(phone, e.admin, `/omnidash/tasks/${tasks[2]!.id}`);
    await expect
      .poll(() => statuses(phone.getByRole('list', { name: 'Task chain' })))
      .toEqual(['failed', 'canceled', 'canceled']);
    await e.screenshot(phone, 'lead-gen-run-dependency-failed-phone');
  }, 120_000);

  it('lets a viewer see the run card but not start a run, saying why', async () => {
    const page = await e.page();
    await e.signIn(page, await e.user('viewer'), '/omnidash/tasks');
    const card = runCard(page);
    const button = card.getByRole('button', { name: 'Start run' });
    expect(await button.isDisabled()).toBe(true);
    expect(await button.getAttribute('title')).toBe('Needs the operator role in this tenant.');
    await card.getByText('You can follow runs but not start them.').waitFor();
    expect(await card.getByLabel('Industries').isDisabled()).toBe(true);
  });
});
