import { createHash, randomBytes } from 'node:crypto';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { AuthApiError, type Session } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJwtKit, type JwtKit } from '../src/jwt.ts';

let t: TestStack;
let kit: JwtKit;

beforeAll(async () => {
  t = await startTestStack();
  kit = t.stack.jwt;
});

afterAll(async () => {
  await t?.close();
});

/** A new user signed in through supabase-js; each call is a separate session. */
async function signedIn(user?: { id: string; email: string; password: string }) {
  const credentials = user ?? (await t.createUser({}));
  const client = t.supabase();
  const { data, error } = await client.auth.signInWithPassword({
    email: credentials.email,
    password: credentials.password,
  });
  expect(error).toBeNull();
  return { user: credentials, client, session: data.session! };
}

/** A raw request to /auth/v1, with the anon key and the API version supabase-js sends unless told otherwise. */
function authFetch(
  path: string,
  init: RequestInit & { apiVersion?: string | null; apikey?: string | null } = {},
) {
  const { apiVersion = '2024-01-01', apikey = t.stack.anonKey, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (apikey) headers.set('apikey', apikey);
  if (apiVersion) headers.set('x-supabase-api-version', apiVersion);
  if (rest.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(`${t.stack.apiUrl}/auth/v1${path}`, { ...rest, headers });
}

/** Refreshes with a fresh client, so no client-side cache can answer instead of the server. */
async function refreshWith(refreshToken: string) {
  return t.supabase().auth.refreshSession({ refresh_token: refreshToken });
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

function expectAuthApiError(error: unknown, status: number, code: string | undefined) {
  expect(error).toBeInstanceOf(AuthApiError);
  expect(error).toMatchObject({ status, code });
}

describe('POST /token?grant_type=password', () => {
  it('signs in with a password and returns a GoTrue session', async () => {
    const user = await t.createUser({});
    const [before] = await t.db.sql`select last_sign_in_at from auth.users where id = ${user.id}`;
    expect(before!.last_sign_in_at).toBeNull();

    const { session } = await signedIn(user);
    const now = Math.floor(Date.now() / 1000);
    expect(session.token_type).toBe('bearer');
    expect(session.expires_in).toBe(3600);
    expect(session.expires_at).toBeGreaterThanOrEqual(now + 3590);
    expect(session.expires_at).toBeLessThanOrEqual(now + 3600);
    expect(session.refresh_token).toMatch(/^[\w-]{40,}$/);
    expect(session.user).toMatchObject({
      id: user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email: user.email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: {},
      identities: [],
      is_anonymous: false,
    });
    expect(session.user.confirmed_at).toBe(session.user.email_confirmed_at);
    expect(Date.parse(session.user.last_sign_in_at!)).toBeGreaterThan(Date.now() - 60_000);

    const [after] = await t.db.sql`select last_sign_in_at from auth.users where id = ${user.id}`;
    expect(after!.last_sign_in_at).toBeInstanceOf(Date);
  });

  it("signs the access token with the stack's secret and the claims Supabase puts in it", async () => {
    const { user, session } = await signedIn();
    const claims = await kit.verify(session.access_token);
    expect(claims).toMatchObject({
      sub: user.id,
      role: 'authenticated',
      aud: 'authenticated',
      email: user.email,
      exp: session.expires_at,
    });
    const sessions = await t.db.sql`select id from auth.sessions where user_id = ${user.id}`;
    expect(sessions.map((row) => row.id)).toEqual([claims.session_id]);

    // A key of another secret is not this stack's: the same claims fail.
    const stranger = await createJwtKit(randomBytes(32));
    await expect(stranger.verify(session.access_token)).rejects.toThrow();
  });

  it('refuses a wrong password and an unknown email alike, with invalid_credentials', async () => {
    const user = await t.createUser({});
    const wrongPassword = await t
      .supabase()
      .auth.signInWithPassword({ email: user.email, password: `${user.password}x` });
    expectAuthApiError(wrongPassword.error, 400, 'invalid_credentials');
    expect(wrongPassword.error!.message).toBe('Invalid login credentials');
    expect(wrongPassword.data.session).toBeNull();

    const unknownEmail = await t
      .supabase()
      .auth.signInWithPassword({ email: `nobody-${user.email}`, password: user.password });
    expectAuthApiError(unknownEmail.error, 400, 'invalid_credentials');
    expect(unknownEmail.error!.message).toBe('Invalid login credentials');

    const sessions = await t.db.sql`select 1 from auth.sessions where user_id = ${user.id}`;
    expect(sessions).toHaveLength(0);
  });

  it('matches the email case-insensitively, as GoTrue does', async () => {
    const user = await t.createUser({});
    const { error } = await t
      .supabase()
      .auth.signInWithPassword({ email: user.email.toUpperCase(), password: user.password });
    expect(error).toBeNull();
  });

  it('refuses an unconfirmed email, but only after the right password', async () => {
    const user = await t.createUser({});
    await t.db.sql`update auth.users set email_confirmed_at = null where id = ${user.id}`;
    const right = await t.supabase().auth.signInWithPassword(user);
    expectAuthApiError(right.error, 400, 'email_not_confirmed');
    const wrong = await t
      .supabase()
      .auth.signInWithPassword({ email: user.email, password: 'not-it' });
    expectAuthApiError(wrong.error, 400, 'invalid_credentials');
  });

  it('names missing and malformed fields', async () => {
    const cases: [string, number, string, string][] = [
      ['{}', 400, 'validation_failed', 'missing email or phone'],
      ['{"email":"a@example.test"}', 400, 'validation_failed', 'missing password'],
      ['{"email":"a@example.test","password":7}', 400, 'bad_json', 'password must be a string'],
      ['not json', 400, 'bad_json', 'Could not parse request body as JSON'],
      ['{"phone":"+15550100","password":"x"}', 422, 'phone_provider_disabled', 'Phone logins'],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await authFetch('/token?grant_type=password', { method: 'POST', body });
      expect(response.status, body).toBe(status);
      const answer = (await response.json()) as { code: string; message: string };
      expect(answer.code, body).toBe(code);
      expect(answer.message, body).toContain(message);
    }
  });

  it('answers in the shape the client asked for with X-Supabase-Api-Version', async () => {
    const body = JSON.stringify({ email: 'nobody@example.test', password: 'x' });
    const current = await authFetch('/token?grant_type=password', { method: 'POST', body });
    expect(current.status).toBe(400);
    expect(current.headers.get('x-supabase-api-version')).toBe('2024-01-01');
    expect(await current.json()).toEqual({
      code: 'invalid_credentials',
      message: 'Invalid login credentials',
    });

    const initial = await authFetch('/token?grant_type=password', {
      method: 'POST',
      body,
      apiVersion: null,
    });
    expect(initial.status).toBe(400);
    expect(initial.headers.get('x-supabase-api-version')).toBeNull();
    expect(await initial.json()).toEqual({
      code: 400,
      error_code: 'invalid_credentials',
      msg: 'Invalid login credentials',
    });
  });
});

describe('POST /token?grant_type=refresh_token', () => {
  it('refreshes the session and rotates the refresh token', async () => {
    const { user, client, session } = await signedIn();
    const { data, error } = await client.auth.refreshSession();
    expect(error).toBeNull();
    const refreshed = data.session!;
    expect(refreshed.refresh_token).not.toBe(session.refresh_token);
    expect(refreshed.user.id).toBe(user.id);
    const [oldClaims, newClaims] = await Promise.all([
      kit.verify(session.access_token),
      kit.verify(refreshed.access_token),
    ]);
    expect(newClaims.session_id).toBe(oldClaims.session_id);

    // The new token is live, and the client can use the new access token.
    const { data: me } = await client.auth.getUser();
    expect(me.user?.id).toBe(user.id);
    const again = await refreshWith(refreshed.refresh_token);
    expect(again.error).toBeNull();
  });

  it('refuses a refresh token once it has been used, and then ends that session', async () => {
    const { session } = await signedIn();
    const first = await refreshWith(session.refresh_token);
    expect(first.error).toBeNull();

    const replay = await refreshWith(session.refresh_token);
    expectAuthApiError(replay.error, 400, 'refresh_token_already_used');
    expect(replay.data.session).toBeNull();

    // Reuse means the token leaked: the child it produced is revoked too.
    const child = await refreshWith(first.data.session!.refresh_token);
    expectAuthApiError(child.error, 400, 'refresh_token_already_used');
  });

  it('lets only one of two concurrent refreshes with the same token succeed', async () => {
    const { session } = await signedIn();
    const refresh = () =>
      authFetch('/token?grant_type=refresh_token', {
        method: 'POST',
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
    // Hold the token's row so both refreshes are in flight at once, whatever
    // the timing: each waits on the row until this transaction ends.
    const holder = await t.db.sql.reserve();
    try {
      await holder`begin`;
      await holder`
        select 1 from auth.refresh_tokens where token = ${sha256(session.refresh_token)} for update`;
      const pending = [refresh(), refresh()];
      await vi.waitFor(
        async () => {
          const [waiting] = await t.db.sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`;
          expect(waiting!.n).toBe(2);
        },
        { timeout: 10_000, interval: 10 },
      );
      await holder`commit`;
      const statuses = (await Promise.all(pending)).map((response) => response.status).sort();
      expect(statuses).toEqual([200, 400]);
    } finally {
      // Ends the transaction if a failure above left it open (a no-op after
      // the commit), so the pooled connection goes back clean.
      await holder`rollback`;
      holder.release();
    }
  });

  it('refuses an unknown refresh token and a missing one', async () => {
    const unknown = await refreshWith(randomBytes(32).toString('base64url'));
    expectAuthApiError(unknown.error, 400, 'refresh_token_not_found');
    expect(unknown.error!.message).toBe('Invalid Refresh Token: Refresh Token Not Found');

    const missing = await authFetch('/token?grant_type=refresh_token', {
      method: 'POST',
      body: '{}',
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: 'invalid_request',
      error_description: 'refresh_token required',
    });
  });
});

describe('GET /user', () => {
  it('returns the signed-in user', async () => {
    const { user, client, session } = await signedIn();
    const { data, error } = await client.auth.getUser();
    expect(error).toBeNull();
    expect(data.user).toMatchObject({
      id: user.id,
      email: user.email,
      aud: 'authenticated',
      role: 'authenticated',
      identities: [],
      is_anonymous: false,
    });
    expect(data.user).toEqual(session.user);

    const byToken = await t.supabase().auth.getUser(session.access_token);
    expect(byToken.data.user?.id).toBe(user.id);
  });

  it('refuses a tampered, foreign, expired or subject-less token with bad_jwt', async () => {
    const { session } = await signedIn();
    const [header, payload, signature] = session.access_token.split('.');
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
    const tampered = await t.supabase().auth.getUser(`${header}.${payload}.${flipped}`);
    expectAuthApiError(tampered.error, 403, 'bad_jwt');

    const stranger = await createJwtKit(randomBytes(32));
    const foreign = await stranger.signAccessToken({ id: session.user.id, email: 'x' }, 'x');
    expectAuthApiError((await t.supabase().auth.getUser(foreign.token)).error, 403, 'bad_jwt');

    const anonAsUser = await t.supabase().auth.getUser(t.stack.anonKey);
    expectAuthApiError(anonAsUser.error, 403, 'bad_jwt');
    expect(anonAsUser.error!.message).toBe('invalid claim: missing sub claim');

    // Only Date is faked: the server checks `exp` against a clock two hours on.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3600 * 1000);
      const expired = await t.supabase().auth.getUser(session.access_token);
      expectAuthApiError(expired.error, 403, 'bad_jwt');
      expect(expired.error!.message).toContain('token is expired');
    } finally {
      vi.useRealTimers();
    }
    expect((await t.supabase().auth.getUser(session.access_token)).error).toBeNull();
  });

  it('refuses the token of a deleted user with user_not_found', async () => {
    const { user, session } = await signedIn();
    await t.db.sql`delete from auth.users where id = ${user.id}`;
    const { error } = await t.supabase().auth.getUser(session.access_token);
    expectAuthApiError(error, 403, 'user_not_found');
  });

  it('requires a bearer token', async () => {
    const response = await authFetch('/user');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: 'no_authorization',
      message: 'This endpoint requires a Bearer token',
    });
  });
});

describe('POST /logout', () => {
  it('signs out: the refresh token is refused and the old access token has no session', async () => {
    const { user, client, session } = await signedIn();
    const { error } = await client.auth.signOut();
    expect(error).toBeNull();
    expect((await client.auth.getSession()).data.session).toBeNull();

    const refresh = await refreshWith(session.refresh_token);
    expectAuthApiError(refresh.error, 400, 'refresh_token_not_found');

    // GoTrue checks the token's session on /user: a signed-out token gets
    // session_not_found, which auth-js reports as AuthSessionMissingError.
    const me = await t.supabase().auth.getUser(session.access_token);
    expect(me.data.user).toBeNull();
    expect(me.error?.name).toBe('AuthSessionMissingError');
    const raw = await authFetch('/user', {
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    expect(raw.status).toBe(403);
    expect(((await raw.json()) as { code: string }).code).toBe('session_not_found');

    const left = await t.db.sql`select 1 from auth.sessions where user_id = ${user.id}`;
    expect(left).toHaveLength(0);
  });

  it('ends only this session with scope local, and only the others with scope others', async () => {
    const user = await t.createUser({});
    const a = await signedIn(user);
    const b = await signedIn(user);
    const c = await signedIn(user);

    expect((await a.client.auth.signOut({ scope: 'others' })).error).toBeNull();
    expectAuthApiError(
      (await refreshWith(b.session.refresh_token)).error,
      400,
      'refresh_token_not_found',
    );
    expectAuthApiError(
      (await refreshWith(c.session.refresh_token)).error,
      400,
      'refresh_token_not_found',
    );
    // `others` keeps the caller signed in, in the client and on the server.
    expect((await a.client.auth.getUser()).error).toBeNull();

    const d = await signedIn(user);
    expect((await a.client.auth.signOut({ scope: 'local' })).error).toBeNull();
    expectAuthApiError(
      (await refreshWith(a.session.refresh_token)).error,
      400,
      'refresh_token_not_found',
    );
    const stillIn: Session | null = (await refreshWith(d.session.refresh_token)).data.session;
    expect(stillIn?.user.id).toBe(user.id);
  });

  it('signs out every session of the user with the default global scope', async () => {
    const user = await t.createUser({});
    const a = await signedIn(user);
    const b = await signedIn(user);
    const other = await signedIn();
    expect((await a.client.auth.signOut()).error).toBeNull();
    expectAuthApiError(
      (await refreshWith(b.session.refresh_token)).error,
      400,
      'refresh_token_not_found',
    );
    // Another user's session is untouched.
    expect((await refreshWith(other.session.refresh_token)).error).toBeNull();
  });

  it('refuses an unknown scope', async () => {
    const { session } = await signedIn();
    const response = await authFetch('/logout?scope=everyone', {
      method: 'POST',
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('validation_failed');
  });
});

describe('the gateway in front of /auth/v1', () => {
  it('refuses a body over 64 KiB with 413', async () => {
    const user = await t.createUser({});
    const response = await authFetch('/token?grant_type=password', {
      method: 'POST',
      body: JSON.stringify({
        email: user.email,
        password: user.password,
        pad: 'x'.repeat(65 * 1024),
      }),
    });
    expect(response.status).toBe(413);
  });

  it('requires one of the stack API keys, as Supabase gateway does', async () => {
    const none = await authFetch('/token?grant_type=password', { method: 'POST', apikey: null });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toBe(
      'No API key found in request',
    );

    const stranger = await createJwtKit(randomBytes(32));
    const { session } = await signedIn();
    for (const apikey of ['not-a-key', stranger.anonKey, session.access_token]) {
      const bad = await authFetch('/token?grant_type=password', { method: 'POST', apikey });
      expect(bad.status, apikey).toBe(401);
      expect(((await bad.json()) as { message: string }).message).toBe('Invalid API key');
    }

    const user = await t.createUser({});
    const badClient = await t.supabase('not-a-key').auth.signInWithPassword(user);
    // The gateway's answer has no GoTrue code: auth-js reports its message.
    expectAuthApiError(badClient.error, 401, undefined);
    expect(badClient.error!.message).toBe('Invalid API key');

    const serviceRole = await t.supabase(t.stack.serviceRoleKey).auth.signInWithPassword(user);
    expect(serviceRole.error).toBeNull();

    const inQuery = await authFetch(`/user?apikey=${t.stack.anonKey}`, {
      apikey: null,
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    expect(inQuery.status).toBe(200);
  });

  it('answers CORS preflights and lets browsers read every answer', async () => {
    const preflight = await fetch(`${t.stack.apiUrl}/auth/v1/token?grant_type=password`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'apikey,authorization,content-type,x-client-info',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = preflight.headers.get('access-control-allow-headers')!.split(',');
    for (const header of [
      'authorization',
      'apikey',
      'content-type',
      'x-client-info',
      'x-supabase-api-version',
    ]) {
      expect(allowed).toContain(header);
    }

    const refused = await authFetch('/user', {
      apikey: null,
      headers: { origin: 'http://localhost:5173' },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');

    const failed = await authFetch('/token?grant_type=password', {
      method: 'POST',
      body: '{}',
      headers: { origin: 'http://localhost:5173' },
    });
    expect(failed.headers.get('access-control-allow-origin')).toBe('*');
    expect(failed.headers.get('access-control-expose-headers')).toContain('x-supabase-api-version');
  });

  it("answers unknown routes, methods and grant types in GoTrue's error shape", async () => {
    const unknownRoute = await authFetch('/signup', { method: 'POST', body: '{}' });
    expect(unknownRoute.status).toBe(404);
    expect(((await unknownRoute.json()) as { code: string }).code).toBe('not_found');

    const wrongMethod = await authFetch('/token?grant_type=password');
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { code: string }).code).toBe('method_not_allowed');

    const grant = await authFetch('/token?grant_type=magic', { method: 'POST', body: '{}' });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toEqual({
      code: 'invalid_credentials',
      message: 'unsupported_grant_type',
    });
  });
});

describe('refresh tokens at rest', () => {
  it('never stores a refresh token in plaintext, only its SHA-256', async () => {
    const { session } = await signedIn();
    const { data } = await refreshWith(session.refresh_token);
    const tokens = [session.refresh_token, data.session!.refresh_token];

    // The hashes are there (so the scan below looks where the tokens would be)...
    const stored = await t.db.sql`
      select token, parent, revoked from auth.refresh_tokens
      where token in ${t.db.sql(tokens.map(sha256))} order by id`;
    expect(stored).toEqual([
      { token: sha256(tokens[0]!), parent: null, revoked: true },
      { token: sha256(tokens[1]!), parent: sha256(tokens[0]!), revoked: false },
    ]);

    // ...and no row of any table, in auth or elsewhere, holds a token itself.
    const tables = await t.db.sql<{ name: string }[]>`
      select quote_ident(table_schema) || '.' || quote_ident(table_name) as name
      from information_schema.tables
      where table_type = 'BASE TABLE'
        and table_schema not in ('pg_catalog', 'information_schema')`;
    expect(tables.map((table) => table.name)).toEqual(
      expect.arrayContaining(['auth.sessions', 'auth.refresh_tokens', 'auth.users']),
    );
    for (const { name } of tables) {
      for (const token of tokens) {
        const [hit] = await t.db.sql.unsafe<{ n: number }[]>(
          `select count(*)::int as n from ${name} t where strpos(t::text, $1) > 0`,
          [token],
        );
        expect(hit!.n, `${name} holds a refresh token`).toBe(0);
      }
    }
  });
});
