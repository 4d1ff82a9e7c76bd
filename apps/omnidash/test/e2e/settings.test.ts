import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { setOmniLinkEnabled } from '../../src/data/settings/settings-update-mutation.ts';
import { startE2E, type E2E } from './harness.ts';

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

/** POST /events with `apiKey` at `portUrl`, as an agent would. */
async function sendEvent(portUrl: string, apiKey: string) {
  const response = await fetch(`${portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'switch_probe', idempotency_key: crypto.randomUUID() }),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

const tenantSwitch = (page: Page) => page.getByRole('switch', { name: 'OmniLink for this tenant' });
const deploymentCard = (page: Page) =>
  page.getByRole('region', { name: 'OmniLink for the whole deployment' });

describe('the Settings screen', () => {
  it('lets an admin switch OmniLink off for the tenant, which the port enforces from the next request, and back on', async () => {
    const key = e.demoKey('apex-sales').apiKey;
    const portUrl = e.t.stack.portUrl;
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/settings');
    const toggle = tenantSwitch(page);
    await toggle.waitFor();
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await page.getByText('Not changed since the tenant was created.').waitFor();
    expect((await sendEvent(portUrl, key)).status).toBe(201);

    await toggle.click();
    const dialog = page.getByRole('dialog', { name: 'Switch OmniLink off for Demo?' });
    await dialog.getByRole('button', { name: 'Switch off' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await page
      .getByRole('status')
      .filter({
        hasText: 'OmniLink is off for Demo: the port refuses its keys from their next request.',
      })
      .waitFor();
    await page.getByText(/^Last changed .* by you/).waitFor();
    const refused = await sendEvent(portUrl, key);
    expect([refused.status, refused.body.error]).toEqual([503, 'omnilink_disabled']);
    // The other demo key belongs to the same tenant: refused too.
    expect((await sendEvent(portUrl, e.demoKey('lead-gen').apiKey)).status).toBe(503);
    await e.screenshot(page, 'settings-tenant-off');

    // Switching on needs no confirmation.
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    expect((await sendEvent(portUrl, key)).status).toBe(201);
    expect(await dialog.isVisible()).toBe(false);
    await e.screenshot(page, 'settings-tenant-on');
  });

  it('shows the deployment-wide switch on, when it was checked, and checks again on request', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/settings');
    const card = deploymentCard(page);
    const state = card.locator('[data-state]');
    await expect.poll(() => state.textContent()).toBe('On');
    const checked = card.locator('dt:text-is("Checked") + dd time');
    const firstCheck = await checked.getAttribute('datetime');
    expect(Date.now() - Date.parse(firstCheck!)).toBeLessThan(60_000);
    await card.getByText(`${e.t.stack.portUrl}/health`).waitFor();

    await card.getByRole('button', { name: 'Check again' }).click();
    await expect.poll(() => checked.getAttribute('datetime')).not.toBe(firstCheck);
    expect(await state.textContent()).toBe('On');
    await e.screenshot(page, 'settings-deployment-on');
  });

  it('shows an operator the switch disabled, with why, and the RPC refuses them', async () => {
    const operator = await e.user('operator');
    const page = await e.page();
    await e.signIn(page, operator, '/omnidash/settings');
    const toggle = tenantSwitch(page);
    await toggle.waitFor();
    expect(await toggle.isDisabled()).toBe(true);
    expect(await toggle.getAttribute('title')).toBe('Needs the admin role in this tenant.');
    await page
      .getByText('Needs the admin role in this tenant. You can see the switch but not flip it.')
      .waitFor();

    const client = e.t.supabase();
    await client.auth.signInWithPassword(operator);
    await expect(setOmniLinkEnabled(client, e.tenantId, false)).rejects.toThrow(
      'This action needs the admin role in this tenant; you are operator.',
    );
    expect((await sendEvent(e.t.stack.portUrl, e.demoKey('apex-sales').apiKey)).status).toBe(201);
    await e.screenshot(page, 'settings-operator');
  });

  it('fits a phone screen', async () => {
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, e.admin, '/omnidash/settings');
    await expect.poll(() => deploymentCard(page).locator('[data-state]').textContent()).toBe('On');
    await tenantSwitch(page).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await e.screenshot(page, 'settings-phone');
  });
});

describe('the Settings screen on a deployment with OMNILINK_ENABLED=false', () => {
  let off: TestStack;
  beforeAll(async () => {
    off = await startTestStack(
      { OMNILINK_ENABLED: 'false' },
      { dashboardDir: inject('omnidashDist') },
    );
  });
  afterAll(() => off?.close());

  it('shows the deployment-wide switch off, in what the port says', async () => {
    const context = await e.browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      await page.goto(`${off.stack.apiUrl}/omnidash/settings`);
      await page.getByLabel('Email').fill(off.stack.operator.email);
      await page.getByLabel('Password').fill(off.stack.operator.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const card = deploymentCard(page);
      await expect.poll(() => card.locator('[data-state]').textContent()).toBe('Off');
      await card
        .getByText('OmniLink is switched off for this deployment (OMNILINK_ENABLED=false).')
        .waitFor();
      // The tenant switch is on, and the screen says the deployment's overrides it.
      expect(await tenantSwitch(page).getAttribute('aria-checked')).toBe('true');
      await page
        .getByText(
          "The deployment-wide switch is off, so the port refuses this tenant's keys anyway.",
        )
        .waitFor();
      const refused = await sendEvent(off.stack.portUrl, off.stack.demoKeys[0]!.apiKey);
      expect([refused.status, refused.body.error]).toEqual([503, 'omnilink_disabled']);
      await e.screenshot(page, 'settings-deployment-off');
    } finally {
      await context.close();
    }
  });
});
