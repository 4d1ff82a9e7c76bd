import { checkApiKey } from '../api-key.ts';
import { API_ROLES } from '../as-role.ts';
import type { JwtClaims, JwtKit } from '../jwt.ts';
import { jwtError, RestError } from './errors.ts';

/** Who a request acts as: the claims PostgREST would put in request.jwt.claims. */
export interface RequestIdentity {
  claims: JwtClaims;
  /** Not anon: PostgREST answers an insufficient privilege with 403 instead of 401. */
  authed: boolean;
}

/**
 * The two checks a Supabase project makes, in its order. The gateway first
 * wants an `apikey` header holding a key of this project; then PostgREST takes
 * the role from `Authorization: Bearer <jwt>` (a signed-in user's token), or,
 * without one, from the apikey itself (anon or service_role).
 */
export async function identify(
  jwt: JwtKit,
  apiKey: string | undefined,
  header: (name: string) => string | undefined,
): Promise<RequestIdentity> {
  const check = await checkApiKey(jwt, apiKey);
  if (!check.ok) throw new RestError(401, { ...check.problem });
  const apiKeyClaims = check.claims;

  const authorization = header('authorization');
  const bearer =
    authorization === undefined ? undefined : /^bearer(?:\s+(.*))?$/is.exec(authorization.trim());
  // Another scheme (Basic …) is not a JWT to PostgREST: the request keeps the apikey's role.
  const claims = bearer ? await verifyBearer(jwt, (bearer[1] ?? '').trim()) : apiKeyClaims;
  if (!API_ROLES.has(claims.role)) {
    // PostgREST would fail to SET ROLE to it; Postgres calls that 22023, PostgREST 401.
    throw new RestError(
      401,
      {
        code: '22023',
        message: `role "${claims.role}" does not exist`,
        details: null,
        hint: null,
      },
      { 'WWW-Authenticate': 'Bearer' },
    );
  }
  return { claims, authed: claims.role !== 'anon' };
}

/** Verifies the bearer token, answering failures with PostgREST 13's JWT errors. */
async function verifyBearer(jwt: JwtKit, token: string): Promise<JwtClaims> {
  if (token === '') throw jwtError('PGRST301', 'Empty JWT is sent in Authorization header');
  const parts = token.split('.').length;
  if (parts !== 3) throw jwtError('PGRST301', `Expected 3 parts in JWT; got ${parts}`);
  try {
    return await jwt.verify(token);
  } catch (error) {
    throw jwtFailure(error);
  }
}

/** jose's error codes → what PostgREST says about the same token. */
function jwtFailure(error: unknown): RestError {
  const code = (error as { code?: unknown }).code;
  const claim = (error as { claim?: unknown }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return jwtError('PGRST303', 'JWT expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return jwtError('PGRST303', 'JWT not yet valid');
      if (claim === 'iat') return jwtError('PGRST303', 'JWT issued at future');
      return jwtError('PGRST303', 'Parsing claims failed');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      // PostgREST's JOSE library tries every key and reports that none fits.
      return jwtError(
        'PGRST301',
        'No suitable key or wrong key type',
        'None of the keys was able to decode the JWT',
      );
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return jwtError('PGRST301', 'Wrong or unsupported encoding algorithm');
    case 'ERR_JWT_INVALID':
      return jwtError('PGRST303', 'Parsing claims failed');
    default:
      return jwtError('PGRST301', 'JWT cryptographic operation failed');
  }
}
