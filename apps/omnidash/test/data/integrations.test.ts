import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/data/api-keys/api-keys-create-mutation.ts';
import { apiKeyState, fetchApiKeys } from '../../src/data/api-keys/api-keys-query.ts';
import { revokeApiKey } from '../../src/data/api-keys/api-keys-revoke-mutation.ts';
import { createIntegration } from '../../src/data/integrations/integrations-create-mutation.ts';
import { fetchIntegrations } from '../../src/data/integrations/integrations-query.ts';
import { member, refusal, sendEvent, type Role } from './support.ts';

const clientFor = async (tenant: string, role: Role) => (await member(t, tenant, role)).client;

let t: TestStack;
let tenantId: string;
let otherTenantId: string;
const as: Record<'admin' | 'operator' | 'viewer' | 'otherAdmin', SupabaseClient> = {} as never;

beforeAll(async () => {
  t = await startTestStack();
  // Tenants made the way the CLI makes them (with a key of their own, so they have an integration).
  tenantId = (await t.issueKey({ tenant: 'integrations-a', source: 'lead-gen' })).tenantId;
  otherTenantId = (await t.issueKey({ tenant: 'integrations-b', source: 'lead-gen' })).tenantId;
  as.admin = await clientFor(tenantId, 'admin');
  as.operator = await clientFor(tenantId, 'operator');
  as.viewer = await clientFor(tenantId, 'viewer');
  as.otherAdmin = await clientFor(otherTenantId, 'admin');
});
afterAll(() => t?.close());

describe('integrations and API keys through the dashboard data layer', () => {
  it('lets an admin create an integration and a key that works at the port until it is revoked', async () => {
    const integration = await createIntegration(as.admin, {
      tenantId,
      source: 'crm-sync',
      name: ' CRM sync ',
    });
    expect(integration).toMatchObject({
      tenant_id: tenantId,
      source: 'crm-sync',
      name: 'CRM sync',
    });
    expect((await fetchIntegrations(as.admin, tenantId)).map((i) => i.source)).toEqual([
      'crm-sync',
      'lead-gen',
    ]);

    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await createApiKey(as.admin, {
      integrationId: integration.id,
      scopes: ['events:write'],
      maxRpm: 60,
      expiresAt,
      name: 'laptop',
    });
    expect(created.api_key).toMatch(new RegExp(`^omni\\.${created.key_id}\\.[A-Za-z0-9_-]{32,}$`));
    expect(created).toMatchObject({
      source: 'crm-sync',
      scopes: ['events:write'],
      max_rpm: 60,
      name: 'laptop',
      revoked_at: null,
    });
    expect(new Date(created.expires_at!).toISOString()).toBe(expiresAt);

    // The list has the key but never its secret.
    const secret = created.api_key.split('.')[2]!;
    const list = await fetchApiKeys(as.admin, tenantId);
    const listed = list.keys.find((key) => key.key_id === created.key_id)!;
    expect(listed).toMatchObject({ integration_id: integration.id, scopes: ['events:write'] });
    expect(apiKeyState(listed)).toBe('active');
    expect(JSON.stringify(list)).not.toContain(secret);
    expect(list.total).toBe(list.keys.length);

    expect((await sendEvent(t, created.api_key, 'crm_synced')).status).toBe(201);
    // The port noted the use; the list shows it.
    const used = (await fetchApiKeys(as.admin, tenantId)).keys.find(
      (key) => key.key_id === created.key_id,
    )!;
    expect(used.last_used_at).not.toBeNull();

    const revoked = await revokeApiKey(as.admin, created.key_id);
    expect(revoked.revoked_at).not.toBeNull();
    const afterRevoke = (await fetchApiKeys(as.admin, tenantId)).keys.find(
      (key) => key.key_id === created.key_id,
    )!;
    expect(apiKeyState(afterRevoke)).toBe('revoked');
    const answer = await sendEvent(t, created.api_key, 'crm_synced');
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('unauthorized');
  });

  it('says why a duplicate source or a bad key request is refused', async () => {
    const duplicate = await refusal(createIntegration(as.admin, { tenantId, source: 'lead-gen' }));
    expect(duplicate.message).toBe('This tenant already has an integration for source lead-gen.');
    const [integration] = await fetchIntegrations(as.admin, tenantId);
    const noScopes = await refusal(
      createApiKey(as.admin, { integrationId: integration!.id, scopes: [] }),
    );
    expect(noScopes.message).toMatch(/^Give the key at least one scope/);
    const past = await refusal(
      createApiKey(as.admin, {
        integrationId: integration!.id,
        scopes: ['events:write'],
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    expect(past.message).toBe('expires_at must be in the future.');
  });

  it.each(['operator', 'viewer'] as const)(
    'refuses an %s every change, with the server message, and changes nothing',
    async (role) => {
      const client = as[role];
      const [integration] = await fetchIntegrations(client, tenantId);
      const key = await t.issueKey({ tenant: 'integrations-a', source: 'lead-gen' });
      const expected = `This action needs the admin role in this tenant; you are ${role}.`;

      const create = await refusal(createIntegration(client, { tenantId, source: `by-${role}` }));
      expect([create.message, create.code, create.status]).toEqual([expected, '42501', 403]);
      const keyRefusal = await refusal(
        createApiKey(client, { integrationId: integration!.id, scopes: ['events:write'] }),
      );
      expect([keyRefusal.message, keyRefusal.status]).toEqual([expected, 403]);
      const revokeRefusal = await refusal(revokeApiKey(client, key.keyId));
      expect([revokeRefusal.message, revokeRefusal.status]).toEqual([expected, 403]);

      // They still read everything.
      expect((await fetchIntegrations(client, tenantId)).map((i) => i.source)).not.toContain(
        `by-${role}`,
      );
      const listed = (await fetchApiKeys(client, tenantId)).keys.find(
        (row) => row.key_id === key.keyId,
      );
      expect(listed?.revoked_at).toBeNull();
      expect((await sendEvent(t, key.apiKey, 'crm_synced')).status).toBe(201);
    },
  );

  it("shows another tenant's admin none of it, and answers their changes with not found", async () => {
    const [integration] = await fetchIntegrations(as.admin, tenantId);
    const key = await t.issueKey({ tenant: 'integrations-a', source: 'lead-gen' });

    expect(await fetchIntegrations(as.otherAdmin, tenantId)).toEqual([]);
    expect(await fetchApiKeys(as.otherAdmin, tenantId)).toEqual({ keys: [], total: 0 });
    // Their own tenant's rows only.
    const own = await fetchApiKeys(as.otherAdmin, otherTenantId);
    expect(own.keys.length).toBeGreaterThan(0);

    const create = await refusal(
      createIntegration(as.otherAdmin, { tenantId, source: 'intruder' }),
    );
    expect([create.message, create.status]).toEqual(['Not found.', 404]);
    const keyRefusal = await refusal(
      createApiKey(as.otherAdmin, { integrationId: integration!.id, scopes: ['events:write'] }),
    );
    expect([keyRefusal.message, keyRefusal.status]).toEqual(['Not found.', 404]);
    const revokeRefusal = await refusal(revokeApiKey(as.otherAdmin, key.keyId));
    expect([revokeRefusal.message, revokeRefusal.status]).toEqual(['Not found.', 404]);
    expect((await sendEvent(t, key.apiKey, 'crm_synced')).status).toBe(201);
  });
});
