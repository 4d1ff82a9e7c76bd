import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

const TILES = [
  'Ingested leads',
  'Qualified leads',
  'Queue size',
  'Qualification rate',
  'Call attempts',
  'Connections',
  'Bookings',
  'Connection rate',
  'Booking rate',
] as const;
type Tile = (typeof TILES)[number];

/** A tile's value: the definition after the term that names it. */
const tile = (page: Page, name: Tile) =>
  page
    .getByRole('term')
    .filter({ hasText: new RegExp(`^${name}$`) })
    .locator('xpath=following-sibling::dd[1]');

async function tileValues(page: Page): Promise<Record<Tile, string>> {
  const values = await Promise.all(
    TILES.map(async (name) => [name, await tile(page, name).textContent()]),
  );
  return Object.fromEntries(values) as Record<Tile, string>;
}

/** What the agents print at the end of a simulation (agents/*\/src/simulate.ts). */
function parseLeadGen(output: string) {
  const match = /(\d+) leads ingested, (\d+) qualified \(([\d.]+)%\), queue seeded with (\d+)/.exec(
    output,
  );
  if (!match) throw new Error(`no Lead-Gen summary in:\n${output}`);
  const [, ingested, qualified, rate, queue] = match.map(Number);
  return { ingested: ingested!, qualified: qualified!, rate: rate!, queue: queue! };
}

function parseApexSales(output: string) {
  const match = /(\d+) call attempts, (\d+) connections \(\d+%\), (\d+) bookings/.exec(output);
  if (!match) throw new Error(`no APEX-Sales summary in:\n${output}`);
  const [, attempts, connections, bookings] = match.map(Number);
  return { attempts: attempts!, connections: connections!, bookings: bookings! };
}

/** "…; 14 events sent (14 new, 0 already stored)." */
function eventsSent(output: string): number {
  const match = /(\d+) events sent \((\d+) new/.exec(output);
  if (!match || match[1] !== match[2]) throw new Error(`not all events were new:\n${output}`);
  return Number(match[1]);
}

/** A share as the page's own locale writes it (formatRate), computed in the page. */
const percent = (page: Page, part: number, whole: number) =>
  page.evaluate(
    ([p, w]) =>
      new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(
        p! / w!,
      ),
    [part, whole],
  );

/** Sends one event with a demo key, through the port as an agent would. */
async function sendEvent(
  source: 'lead-gen' | 'apex-sales',
  event: { type: string; idempotency_key: string; occurred_at?: string; data?: object },
) {
  const response = await fetch(`${e.t.stack.portUrl}/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${e.demoKey(source).apiKey}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(event),
  });
  expect(response.status).toBe(201);
}

/** The recent-events table's rows: [occurred (ISO), source, type]. */
async function eventRows(page: Page): Promise<[string, string, string][]> {
  const table = page.getByRole('table', { name: /^Recent events/ });
  return table.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const cells = row.querySelectorAll('td');
      return [
        cells[0]!.querySelector('time')!.getAttribute('datetime')!,
        cells[1]!.textContent!,
        cells[2]!.textContent!,
      ] as [string, string, string];
    }),
  );
}

let expected: Record<Tile, string>;
/** How many events each simulation sent. */
let sent: { leadGen: number; apexSales: number };
let page: Page;

describe('the Local agents screen', () => {
  it('shows what both simulations printed in every tile, live, without a reload', async () => {
    page = await e.page();
    await e.signIn(page, e.admin);
    await page.getByRole('heading', { level: 1, name: 'Local agents' }).waitFor();
    await expect.poll(() => tile(page, 'Ingested leads').textContent()).toBe('0');
    expect(await tile(page, 'Queue size').textContent()).toBe('—');
    expect(await tile(page, 'Booking rate').textContent()).toBe('—');
    // A reload would lose this.
    await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));

    const leadOutput = await e.runAgent('lead-gen');
    const apexOutput = await e.runAgent('apex-sales');
    const lead = parseLeadGen(leadOutput);
    const apex = parseApexSales(apexOutput);
    sent = { leadGen: eventsSent(leadOutput), apexSales: eventsSent(apexOutput) };
    expected = {
      'Ingested leads': String(lead.ingested),
      'Qualified leads': String(lead.qualified),
      'Queue size': String(lead.queue),
      'Qualification rate': await percent(page, lead.qualified, lead.ingested),
      'Call attempts': String(apex.attempts),
      Connections: String(apex.connections),
      Bookings: String(apex.bookings),
      'Connection rate': await percent(page, apex.connections, apex.attempts),
      'Booking rate': await percent(page, apex.bookings, apex.attempts),
    };
    // The agent's own rounding of the rate agrees with the tile's.
    expect(parseFloat(expected['Qualification rate'])).toBeCloseTo(lead.rate, 1);

    await expect.poll(() => tileValues(page), { timeout: 15_000 }).toEqual(expected);
    expect(
      await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded),
    ).toBe(true);

    // The chart has both sources and says so to screen readers.
    const chart = page.getByRole('img', { name: /^Line chart of events per hour by source/ });
    await expect
      .poll(() => chart.getAttribute('aria-label'))
      .toMatch(new RegExp(`lead-gen ${sent.leadGen} events.*apex-sales ${sent.apexSales} events`));
    await e.screenshot(page, 'local-agents-simulated');
  }, 120_000);

  it('lists a worker as online once it asks for tasks, and offline when it has not been seen for a minute', async () => {
    const worker = e.startWorker('apex-sales');
    const row = page.getByRole('row', { name: /apex-sales-e2e/ });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toMatch(/Online/);
    await expect.poll(() => page.getByText(/1 of 1 worker online/).count()).toBe(1);
    await e.screenshot(page, 'local-agents-worker-online');

    await worker.stop();
    await e.t.db.sql`
      update public.workers
      set last_seen_at = now() - interval '2 minutes', last_claim_at = now() - interval '2 minutes'`;
    await expect.poll(() => row.textContent()).toMatch(/Offline/);
    await e.screenshot(page, 'local-agents-worker-offline');
  });

  it('lists recent events of both sources newest first, filters them, and adds new ones at the top live', async () => {
    const rows = await eventRows(page);
    expect(rows).toHaveLength(Math.min(50, sent.leadGen + sent.apexSales));
    const stamps = rows.map(([iso]) => Date.parse(iso));
    expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
    expect(new Set(rows.map(([, source]) => source))).toEqual(new Set(['lead-gen', 'apex-sales']));

    await page.getByLabel('Source', { exact: true }).selectOption('lead-gen');
    await expect
      .poll(async () => (await eventRows(page)).map(([, source]) => source))
      .toEqual(Array(sent.leadGen).fill('lead-gen'));
    await page.getByLabel('Type', { exact: true }).selectOption('queue_seeded');
    await expect
      .poll(async () => (await eventRows(page)).map(([, , type]) => type))
      .toEqual(['queue_seeded']);
    expect(page.url()).toContain('source=lead-gen');

    await page.getByLabel('Type', { exact: true }).selectOption('');
    // Later than every simulated event, which the agents stamp up to now.
    await sendEvent('lead-gen', {
      type: 'e2e_probe',
      idempotency_key: 'e2e-probe-live',
      occurred_at: new Date(Date.now() + 60_000).toISOString(),
    });
    await expect.poll(async () => (await eventRows(page))[0]?.[2]).toBe('e2e_probe');
    expect(await eventRows(page)).toHaveLength(sent.leadGen + 1);
    // An apex-sales event is not for this filtered list.
    await sendEvent('apex-sales', {
      type: 'e2e_probe_apex',
      idempotency_key: 'e2e-probe-apex',
      occurred_at: new Date(Date.now() + 2 * 60_000).toISOString(),
    });
    await page.getByLabel('Source', { exact: true }).selectOption('');
    await expect.poll(async () => (await eventRows(page))[0]?.[2]).toBe('e2e_probe_apex');
    await e.screenshot(page, 'local-agents-events');

    // Enough older events for a second page of 50.
    const fillers = Math.max(0, 51 - (sent.leadGen + sent.apexSales + 2)) + 5;
    for (let i = 0; i < fillers; i++)
      await sendEvent('apex-sales', {
        type: 'e2e_filler',
        idempotency_key: `e2e-filler-${i}`,
        occurred_at: new Date(Date.now() - (30 + i) * 60_000).toISOString(),
      });
    const total = sent.leadGen + sent.apexSales + 2 + fillers;
    await page.getByRole('button', { name: 'Older events' }).click();
    await expect.poll(async () => (await eventRows(page)).length).toBe(total - 50);
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');
    await page.getByText(`Events 51–${total} of ${total}`).waitFor();
    await page.getByRole('button', { name: 'Newer events' }).click();
    await expect.poll(async () => (await eventRows(page))[0]?.[2]).toBe('e2e_probe_apex');
    expect(new URL(page.url()).searchParams.get('page')).toBeNull();
  });

  it('counts an event three days old in "Last 7 days" and "All time", not in "Last 24 hours"', async () => {
    await sendEvent('lead-gen', {
      type: 'lead_ingested',
      idempotency_key: 'e2e-three-days-ago',
      occurred_at: new Date(Date.now() - 3 * 24 * 60 * 60_000).toISOString(),
      data: { lead_id: 'old-1' },
    });
    const ingested = Number(expected['Ingested leads']);
    const windowSelect = page.getByLabel('Time window', { exact: true });
    expect(await windowSelect.inputValue()).toBe('24h');
    // Realtime has delivered the old event (it is in "All time" below), and 24 hours still leaves it out.
    await windowSelect.selectOption({ label: 'Last 7 days' });
    await expect.poll(() => tile(page, 'Ingested leads').textContent()).toBe(String(ingested + 1));
    expect(page.url()).toContain('window=7d');
    await windowSelect.selectOption({ label: 'All time' });
    await expect.poll(() => tile(page, 'Ingested leads').textContent()).toBe(String(ingested + 1));
    await windowSelect.selectOption({ label: 'Last 24 hours' });
    await expect.poll(() => tile(page, 'Ingested leads').textContent()).toBe(String(ingested));
    await windowSelect.selectOption({ label: 'Last hour' });
    await expect.poll(() => tile(page, 'Ingested leads').textContent()).toBe(String(ingested));
    expect(await tileValues(page)).toEqual(expected);
    await page.getByRole('img', { name: /^Line chart of events per 5 minutes/ }).waitFor();
    await e.screenshot(page, 'local-agents-last-hour');
  });

  it('catches up on what changed while its live channel was still opening', async () => {
    const late = await e.page();
    // Realtime's socket held back until released: the screen's first reads
    // answer, then an event is stored, then the channel opens.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await late.routeWebSocket(/\/realtime\/v1\/websocket/, async (socket) => {
      const held: (string | Buffer)[] = [];
      let server: ReturnType<typeof socket.connectToServer> | null = null;
      socket.onMessage((message) => (server ? server.send(message) : held.push(message)));
      await released;
      server = socket.connectToServer();
      server.onMessage((message) => socket.send(message));
      for (const message of held) server.send(message);
    });
    await late.goto(`${e.t.stack.apiUrl}/omnidash/local-agents?window=all`);
    await late.getByLabel('Email').fill(e.admin.email);
    await late.getByLabel('Password').fill(e.admin.password);
    await late.getByRole('button', { name: 'Sign in' }).click();
    const before = Number(expected['Ingested leads']) + 1;
    await expect.poll(() => tile(late, 'Ingested leads').textContent()).toBe(String(before));
    expect(await late.getByRole('status').filter({ hasText: 'Connecting…' }).count()).toBe(1);

    await sendEvent('lead-gen', {
      type: 'lead_ingested',
      idempotency_key: 'e2e-before-the-channel',
      data: { lead_id: 'early-1' },
    });
    release();
    await late.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await expect.poll(() => tile(late, 'Ingested leads').textContent()).toBe(String(before + 1));
    expected['Ingested leads'] = String(Number(expected['Ingested leads']) + 1);
    await e.screenshot(late, 'local-agents-caught-up');
  });

  it('fits a phone screen', async () => {
    const phone = await e.page({ width: 390, height: 844 });
    await e.signIn(phone, e.admin, '/omnidash/local-agents?window=7d');
    await expect
      .poll(() => tileValues(phone))
      .toEqual({
        ...expected,
        'Ingested leads': String(Number(expected['Ingested leads']) + 1),
        'Qualification rate': await percent(
          phone,
          Number(expected['Qualified leads']),
          Number(expected['Ingested leads']) + 1,
        ),
      });
    // Nothing wider than the screen but the tables, which scroll inside their box.
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(390);
    await e.screenshot(phone, 'local-agents-phone');
  });
});
