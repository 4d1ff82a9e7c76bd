import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPortHealth } from '../../src/data/health/port-health-query.ts';
import { fetchTenantSettings } from '../../src/data/settings/settings-query.ts';
import { setOmniLinkEnabled } from '../../src/data/settings/settings-update-mutation.ts';
import { member as newMember, refusal, sendEvent, type Role } from './support.ts';

const member = (tenantId: string, role: Role) => newMember(t, tenantId, role);

let t: TestStack;
let key: IssuedKey;
let otherKey: IssuedKey;
let admin: { id: string; client: SupabaseClient };
let secondAdmin: { id: string; client: SupabaseClient };
let operator: SupabaseClient;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'settings-a', source: 'lead-gen' });
  otherKey = await t.issueKey({ tenant: 'settings-b', source: 'lead-gen' });
  admin = await member(key.tenantId, 'admin');
  secondAdmin = await member(key.tenantId, 'admin');
  operator = (await member(key.tenantId, 'operator')).client;
});
afterAll(() => t?.close());

describe("the tenant's OmniLink switch through the dashboard data layer", () => {
  it('starts on, never changed', async () => {
    expect(await fetchTenantSettings(admin.client, key.tenantId)).toMatchObject({
      tenant_id: key.tenantId,
      omnilink_enabled: true,
      updated_by: null,
      updated_by_role: null,
    });
  });

  it("lets an admin switch it off, after which the port answers that tenant's key 503, and back on", async () => {
    expect((await sendEvent(t, key.apiKey, 'switch_probe')).status).toBe(201);

    const off = await setOmniLinkEnabled(admin.client, key.tenantId, false);
    expect(off).toMatchObject({ omnilink_enabled: false, updated_by: admin.id });
    const refused = await sendEvent(t, key.apiKey, 'switch_probe');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('omnilink_disabled');
    // Another tenant's keys are not affected.
    expect((await sendEvent(t, otherKey.apiKey, 'switch_probe')).status).toBe(201);

    // Who changed it, as the other admin reads it.
    expect(await fetchTenantSettings(secondAdmin.client, key.tenantId)).toMatchObject({
      omnilink_enabled: false,
      updated_by: admin.id,
      updated_by_role: 'admin',
    });

    await setOmniLinkEnabled(secondAdmin.client, key.tenantId, true);
    expect((await sendEvent(t, key.apiKey, 'switch_probe')).status).toBe(201);
    expect(await fetchTenantSettings(admin.client, key.tenantId)).toMatchObject({
      omnilink_enabled: true,
      updated_by: secondAdmin.id,
    });
  });

  it('refuses an operator with the server message and leaves the switch as it was', async () => {
    const error = await refusal(setOmniLinkEnabled(operator, key.tenantId, false));
    expect([error.message, error.status]).toEqual([
      'This action needs the admin role in this tenant; you are operator.',
      403,
    ]);
    expect((await fetchTenantSettings(operator, key.tenantId)).omnilink_enabled).toBe(true);
    expect((await sendEvent(t, key.apiKey, 'switch_probe')).status).toBe(201);
  });

  it('refuses an admin of another tenant with not found', async () => {
    const stranger = await member(otherKey.tenantId, 'admin');
    const error = await refusal(setOmniLinkEnabled(stranger.client, key.tenantId, false));
    expect([error.message, error.status]).toEqual(['Not found.', 404]);
    expect((await sendEvent(t, key.apiKey, 'switch_probe')).status).toBe(201);
  });

  it("reads the deployment-wide switch as on from this stack's /health", async () => {
    expect(await fetchPortHealth(t.stack.portUrl)).toMatchObject({ state: 'on' });
  });
});
