import type { JwtClaims, JwtKit } from './jwt.ts';

/** The roles whose JWTs are API keys (the anon and service-role keys). */
const API_KEY_ROLES = new Set(['anon', 'service_role']);

/** The gateway's answer body when a request has no usable API key. */
export interface ApiKeyProblem {
  message: string;
  hint: string;
}

export type ApiKeyCheck = { ok: true; claims: JwtClaims } | { ok: false; problem: ApiKeyProblem };

/**
 * What Supabase's gateway (Kong's key-auth) checks in front of auth, rest and
 * realtime: the request carries an API key (the `apikey` header or query
 * parameter) and it is one of this project's keys. Here that means a JWT this
 * stack signed whose role is anon or service_role; a user's access token is
 * not an API key. One rule for every endpoint, so they all refuse alike.
 */
export async function checkApiKey(jwt: JwtKit, key: string | undefined): Promise<ApiKeyCheck> {
  if (!key?.trim()) {
    return {
      ok: false,
      problem: {
        message: 'No API key found in request',
        hint: 'No `apikey` request header or url param was found.',
      },
    };
  }
  const claims = await jwt.verify(key.trim()).catch(() => undefined);
  if (!claims || !API_KEY_ROLES.has(claims.role)) {
    return {
      ok: false,
      problem: {
        message: 'Invalid API key',
        hint: 'Double check your Supabase `anon` or `service_role` API key.',
      },
    };
  }
  return { ok: true, claims };
}
