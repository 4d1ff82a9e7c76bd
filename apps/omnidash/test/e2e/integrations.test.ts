import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegration } from '../../src/data/integrations/integrations-create-mutation.ts';
import { revokeApiKey } from '../../src/data/api-keys/api-keys-revoke-mutation.ts';
import { startE2E, type E2E } from './harness.ts';

const WARNING = 'This key will not be shown again. Copy it now and store it somewhere safe.';

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

/** POST /events with `apiKey`, as an agent of that integration would. */
async function sendEvent(apiKey: string) {
  const response = await fetch(`${e.t.stack.portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'crm_synced', idempotency_key: crypto.randomUUID() }),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

/** Whether `text` is anywhere the page keeps things: markup, field values, web storage. */
function pageHolds(page: Page, text: string) {
  return page.evaluate((needle) => {
    const fields = [...document.querySelectorAll('input, textarea')].map(
      (field) => (field as HTMLInputElement).value,
    );
    const stored = [localStorage, sessionStorage].flatMap((storage) =>
      Object.keys(storage).map((key) => `${key}=${storage.getItem(key)}`),
    );
    return [document.documentElement.outerHTML, ...fields, ...stored].some((value) =>
      value.includes(needle),
    );
  }, text);
}

describe('the Integrations screen', () => {
  it('creates an integration and a key, shows the key once, and revoking it shuts it out of the port', async () => {
    const page = await e.page();
    await page
      .context()
      .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e.t.stack.apiUrl });
    await e.signIn(page, e.admin, '/omnidash/integrations');
    await page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();

    const newIntegration = page.getByRole('region', { name: 'New integration' });
    await newIntegration.getByLabel('Source').fill('crm-sync');
    await newIntegration.getByLabel('Name (optional)').fill('CRM sync');
    await newIntegration.getByRole('button', { name: 'Create integration' }).click();
    await newIntegration
      .getByRole('status')
      .filter({ hasText: 'Integration CRM sync (crm-sync) created.' })
      .waitFor();

    const card = page.getByRole('region', { name: 'CRM sync' });
    await card.getByText('No API keys yet.').waitFor();
    await card.getByRole('button', { name: 'New API key for crm-sync' }).click();
    await card.getByLabel('Name (optional)').fill('sync box');
    await card.getByRole('checkbox', { name: /events:write/ }).check();
    await card.getByLabel('Max requests per minute (optional)').fill('120');
    await card.getByLabel('Expires').selectOption('90d');
    await card.getByRole('button', { name: 'Create key' }).click();

    const field = card.getByLabel('API key', { exact: true });
    await field.waitFor();
    const apiKey = await field.inputValue();
    expect(apiKey).toMatch(/^omni\.[a-z0-9]{8,32}\.[A-Za-z0-9_-]{32,}$/);
    const keyId = apiKey.split('.')[1]!;
    const secret = apiKey.split('.')[2]!;
    expect(await field.getAttribute('readonly')).not.toBeNull();
    await card.getByText(WARNING, { exact: true }).waitFor();

    await card.getByRole('button', { name: 'Copy' }).click();
    await card.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey);

    // The list has the key (without its secret), next to the panel.
    const row = card.getByRole('row', { name: new RegExp(`^${keyId} `) });
    await row.getByText('active', { exact: true }).waitFor();
    expect(await row.getByRole('cell').allTextContents()).toEqual(
      expect.arrayContaining(['sync box', 'events:write', '120']),
    );
    await e.screenshot(page, 'integrations-key-shown-once');

    // The key works at the port.
    expect((await sendEvent(apiKey)).status).toBe(201);

    await card.getByRole('button', { name: 'Done — hide the key' }).click();
    await field.waitFor({ state: 'detached' });
    await expect.poll(() => pageHolds(page, secret)).toBe(false);
    await page.reload();
    await card.getByRole('row', { name: new RegExp(`^${keyId} `) }).waitFor();
    expect(await pageHolds(page, secret)).toBe(false);

    await card.getByRole('button', { name: `Revoke key ${keyId}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke key ${keyId}?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const revokedRow = card.getByRole('row', { name: new RegExp(`^${keyId} `) });
    await revokedRow.getByText('revoked', { exact: true }).waitFor();
    expect(await revokedRow.locator('time').count()).toBeGreaterThan(0);
    expect(await card.getByRole('button', { name: `Revoke key ${keyId}` }).count()).toBe(0);
    await page
      .getByRole('status')
      .filter({ hasText: `Key ${keyId} revoked: the port refuses it from its next request.` })
      .waitFor();

    const refused = await sendEvent(apiKey);
    expect([refused.status, refused.body.error]).toEqual([401, 'unauthorized']);
    await e.screenshot(page, 'integrations-revoked');
  });

  it('lets the admin cancel a revocation, and says why a duplicate source is refused', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin, '/omnidash/integrations');
    const demoKey = e.demoKey('lead-gen');
    const card = page.getByRole('region', { name: 'lead-gen' });
    await card.getByRole('button', { name: `Revoke key ${demoKey.keyId}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke key ${demoKey.keyId}?` });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await sendEvent(demoKey.apiKey)).status).toBe(201);

    const newIntegration = page.getByRole('region', { name: 'New integration' });
    await newIntegration.getByLabel('Source').fill('Lead Gen!');
    await newIntegration.getByRole('button', { name: 'Create integration' }).click();
    await newIntegration.getByText(/^The source must be 1-100 characters/).waitFor();
    expect(await newIntegration.getByLabel('Source').getAttribute('aria-invalid')).toBe('true');

    await newIntegration.getByLabel('Source').fill('lead-gen');
    await newIntegration.getByRole('button', { name: 'Create integration' }).click();
    await expect
      .poll(() => newIntegration.getByRole('alert').textContent())
      .toBe(
        'The integration was not created: This tenant already has an integration for source lead-gen.',
      );
    await e.screenshot(page, 'integrations-refusals');
  });

  it('shows a viewer every integration and key, with every create and revoke control disabled; the RPCs refuse them', async () => {
    const viewer = await e.user('viewer');
    const page = await e.page();
    await e.signIn(page, viewer, '/omnidash/integrations');
    const demoKey = e.demoKey('apex-sales');
    const card = page.getByRole('region', { name: 'apex-sales' });
    await card.getByRole('row', { name: new RegExp(`^${demoKey.keyId} `) }).waitFor();
    await page
      .getByText('Needs the admin role in this tenant.', { exact: false })
      .first()
      .waitFor();

    const newIntegration = page.getByRole('region', { name: 'New integration' });
    expect(await newIntegration.getByLabel('Source').isDisabled()).toBe(true);
    expect(
      await newIntegration.getByRole('button', { name: 'Create integration' }).isDisabled(),
    ).toBe(true);
    const newKeyButtons = page.getByRole('button', { name: /^New API key for / });
    const revokeButtons = page.getByRole('button', { name: /^Revoke key / });
    expect(await newKeyButtons.count()).toBeGreaterThanOrEqual(2);
    expect(await revokeButtons.count()).toBeGreaterThanOrEqual(2);
    for (const button of [...(await newKeyButtons.all()), ...(await revokeButtons.all())]) {
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toBe('Needs the admin role in this tenant.');
    }

    // The database refuses them anyway.
    const client = e.t.supabase();
    await client.auth.signInWithPassword(viewer);
    const expected = 'This action needs the admin role in this tenant; you are viewer.';
    await expect(
      createIntegration(client, { tenantId: e.tenantId, source: 'viewer-made' }),
    ).rejects.toThrow(expected);
    await expect(revokeApiKey(client, demoKey.keyId)).rejects.toThrow(expected);
    expect((await sendEvent(demoKey.apiKey)).status).toBe(201);
    await e.screenshot(page, 'integrations-viewer');
  });

  it('fits a phone screen with a new key on show', async () => {
    const page = await e.page({ width: 390, height: 844 });
    await e.signIn(page, e.admin, '/omnidash/integrations');
    const card = page.getByRole('region', { name: 'apex-sales' });
    await card.getByRole('button', { name: 'New API key for apex-sales' }).click();
    for (const scope of ['tasks:claim', 'tasks:complete'])
      await card.getByRole('checkbox', { name: new RegExp(scope) }).check();
    await card.getByRole('button', { name: 'Create key' }).click();
    await card.getByLabel('API key', { exact: true }).waitFor();
    // Only the keys table may scroll sideways, inside its own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    await e.screenshot(page, 'integrations-phone');
  });
});
