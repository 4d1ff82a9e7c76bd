import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';

/** What a verified token says; `role` is the Postgres role the request runs as. */
export interface JwtClaims extends JWTPayload {
  role: string;
  sub?: string;
  email?: string;
  session_id?: string;
}

export interface AccessTokenUser {
  id: string;
  email: string;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
}

/** How long a signed-in user's access token lives, as Supabase's default. */
export const ACCESS_TOKEN_SECONDS = 3600;

/**
 * The local stack's JWT keys, as a Supabase project has them: HS256 with one
 * secret, an anon key and a service-role key (long-lived JWTs of those
 * roles), and access tokens for signed-in users.
 */
export interface JwtKit {
  anonKey: string;
  serviceRoleKey: string;
  signAccessToken(
    user: AccessTokenUser,
    sessionId: string,
  ): Promise<{ token: string; expiresAt: number }>;
  /** Throws when the token is malformed, not signed with this secret, or expired. */
  verify(token: string): Promise<JwtClaims>;
}

const ISSUER = 'supabase-demo';
/** 2100-01-01: a fixed expiry (and issue time) keeps the printed keys identical across starts. */
const API_KEY_EXPIRES_AT = 4_102_444_800;

/**
 * Derived from the data dir's local secret, so the anon and service-role keys
 * stay the same across restarts (like the Supabase CLI's fixed demo keys, but
 * not public).
 */
export async function createJwtKit(localSecret: Buffer): Promise<JwtKit> {
  const secret = createHmac('sha256', localSecret).update('omnihub jwt secret').digest();
  const apiKey = (role: string) =>
    new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setIssuedAt(0)
      .setExpirationTime(API_KEY_EXPIRES_AT)
      .sign(secret);
  const [anonKey, serviceRoleKey] = await Promise.all([apiKey('anon'), apiKey('service_role')]);

  return {
    anonKey,
    serviceRoleKey,
    async signAccessToken(user, sessionId) {
      const issuedAt = Math.floor(Date.now() / 1000);
      const expiresAt = issuedAt + ACCESS_TOKEN_SECONDS;
      const token = await new SignJWT({
        role: 'authenticated',
        aud: 'authenticated',
        email: user.email,
        phone: '',
        app_metadata: user.app_metadata ?? { provider: 'email', providers: ['email'] },
        user_metadata: user.user_metadata ?? {},
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: issuedAt }],
        session_id: sessionId,
        is_anonymous: false,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setSubject(user.id)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(secret);
      return { token, expiresAt };
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      if (typeof payload.role !== 'string') throw new Error('the token has no role');
      return payload as JwtClaims;
    },
  };
}
