import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.ts';

let e: E2E;
beforeAll(async () => {
  e = await startE2E();
});
afterAll(() => e?.close());

describe('signing in to OmniDash', () => {
  it('says clearly when the credentials are wrong, and lets the user in with the right ones', async () => {
    const page = await e.page();
    await page.goto(`${e.t.stack.apiUrl}/omnidash/tasks`);
    await page.getByLabel('Email').fill(e.admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Wrong email or password. Check both and try again.');

    await page.getByLabel('Password').fill(e.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The address asked for before signing in is where the user lands.
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByText('admin', { exact: true }).count()).toBeGreaterThan(0);
    await e.screenshot(page, 'sign-in-signed-in');
  });

  it('keeps the session across a reload, and signs out', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Local agents' }).waitFor();
    expect(await page.getByLabel('Email').count()).toBe(0);
    // Following a link of the main navigation puts focus on the new screen's content.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Tasks' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await e.screenshot(page, 'sign-in-signed-out');
  });

  it('says so when signing out fails, keeps the user signed in, and lets them try again', async () => {
    const page = await e.page();
    await e.signIn(page, e.admin);
    // The auth server out of reach, as on a dropped connection.
    await page.route('**/auth/v1/logout**', (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe(
        'Could not sign out, so you are still signed in. Cannot reach the server. Check your connection and try again.',
      );
    await e.screenshot(page, 'sign-in-sign-out-failed');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Local agents' }).waitFor();

    const refreshToken = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((name) => name.endsWith('-auth-token'))!;
      return (JSON.parse(localStorage.getItem(key)!) as { refresh_token: string }).refresh_token;
    });
    await page.unroute('**/auth/v1/logout**');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // Ended on the server too, not just forgotten here: its refresh token is refused.
    const refreshed = await e.t.supabase().auth.refreshSession({ refresh_token: refreshToken });
    expect(refreshed.error?.message).toMatch(/refresh token/i);
  });

  it('tells a user without a tenant what to do', async () => {
    const stranger = await e.t.createUser({});
    const page = await e.page();
    await page.goto(e.t.stack.apiUrl);
    await page.getByLabel('Email').fill(stranger.email);
    await page.getByLabel('Password').fill(stranger.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No tenant yet' }).waitFor();
    await e.screenshot(page, 'sign-in-no-tenant');
  });

  it('lets a member of several tenants switch between them, and remembers the choice', async () => {
    const [acme] = await e.t.db
      .sql`insert into public.tenants (slug, name) values ('acme', 'Acme') returning id`;
    const user = await e.t.createUser({ tenantId: e.tenantId, role: 'viewer' });
    await e.t.db
      .sql`insert into public.tenant_members (tenant_id, user_id, role) values (${acme!.id}, ${user.id}, 'admin')`;
    const page = await e.page();
    await e.signIn(page, user);
    const picker = page.getByLabel('Tenant');
    // Alphabetical: Acme first, where this user is admin.
    expect(await picker.inputValue()).toBe('acme');
    expect(await page.locator('.badge').first().textContent()).toBe('admin');

    await picker.selectOption('demo');
    await expect.poll(() => page.locator('.badge').first().textContent()).toBe('viewer');
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    expect(await page.getByLabel('Tenant').inputValue()).toBe('demo');
    await e.screenshot(page, 'sign-in-tenant-switch');
  });
});
