import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMemberships } from '../../src/data/memberships/memberships-query.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t?.close());

async function tenant(slug: string, name: string): Promise<string> {
  const [row] = await t.db
    .sql`insert into public.tenants (slug, name) values (${slug}, ${name}) returning id`;
  return row!.id as string;
}

describe('fetchMemberships', () => {
  it('lists the user’s tenants by name with the role in each, and nothing of others', async () => {
    const zeta = await tenant('zeta', 'Zeta Corp');
    const acme = await tenant('acme', 'Acme');
    await tenant('other', 'Other Co');
    const user = await t.createUser({ tenantId: zeta, role: 'admin' });
    await t.db
      .sql`insert into public.tenant_members (tenant_id, user_id, role) values (${acme}, ${user.id}, 'viewer')`;
    // Someone else in Acme: members see each other, but only the user's own rows count.
    await t.createUser({ tenantId: acme, role: 'operator' });

    const client = await t.supabaseAs(await t.accessToken(user));
    expect(await fetchMemberships(client, user.id)).toEqual([
      { tenantId: acme, slug: 'acme', name: 'Acme', role: 'viewer' },
      { tenantId: zeta, slug: 'zeta', name: 'Zeta Corp', role: 'admin' },
    ]);
  });

  it('gives a user without a tenant an empty list', async () => {
    const stranger = await t.createUser({});
    const client = await t.supabaseAs(await t.accessToken(stranger));
    expect(await fetchMemberships(client, stranger.id)).toEqual([]);
  });
});
