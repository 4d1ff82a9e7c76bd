import type { Sql } from '@omnihub/database';
import type postgres from 'postgres';
import type { AccessTokenUser } from '../jwt.ts';

/** The auth.users columns the local auth reads. */
export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  email_confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** The pool or a transaction on it: both run tagged-template queries. */
export type Queryable = postgres.ISql;

export async function findUserById(sql: Queryable, id: string): Promise<UserRow | undefined> {
  const [user] = await sql<UserRow[]>`
    select id, aud, role, email, email_confirmed_at, last_sign_in_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    from auth.users where id = ${id}`;
  return user;
}

/** A bcrypt salt at pgcrypto's default cost (gen_salt('bf')), hashed against when no user matches. */
const UNKNOWN_USER_SALT = '$2a$06$Gx1eWw5mJ6jvq0yQv8b1/e';

/**
 * The user with this email (compared case-insensitively, as GoTrue does) and
 * whether `password` matches its bcrypt hash. The comparison runs in
 * Postgres with pgcrypto, where the hashes were made; a user without a
 * password (or with a hash that is not bcrypt) never matches.
 */
export async function findUserByPassword(
  sql: Sql,
  email: string,
  password: string,
): Promise<{ user: UserRow; passwordMatches: boolean } | undefined> {
  const [row] = await sql<(UserRow & { password_matches: boolean })[]>`
    select id, aud, role, email, email_confirmed_at, last_sign_in_at,
           raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
           case when encrypted_password like '$2%'
                then encrypted_password = extensions.crypt(${password}, encrypted_password)
                else false end as password_matches
    from auth.users where lower(email) = lower(${email})`;
  if (!row) {
    // As long as a wrong password takes: the answer time must not tell which emails have accounts.
    await sql`select extensions.crypt(${password}, ${UNKNOWN_USER_SALT})`;
    return undefined;
  }
  const { password_matches: passwordMatches, ...user } = row;
  return { user, passwordMatches };
}

/**
 * app_metadata as GoTrue would have it. Users made straight in SQL (the demo
 * operator, test users) have `{}`, where a GoTrue email sign-up writes the
 * provider; filling it in keeps `user.app_metadata.provider` what clients
 * expect. Whatever the row holds wins.
 */
function appMetadata(user: UserRow): Record<string, unknown> {
  return { provider: 'email', providers: ['email'], ...user.raw_app_meta_data };
}

/** What the access token is signed for. */
export function tokenSubject(user: UserRow): AccessTokenUser {
  return {
    id: user.id,
    email: user.email ?? '',
    app_metadata: appMetadata(user),
    user_metadata: user.raw_user_meta_data,
  };
}

/**
 * The user object GoTrue returns from /user and inside sessions (its
 * models.User JSON): timestamps that are unset are left out, as Go's
 * omitempty does, and this stand-in has no phones and no identities.
 */
export function userJson(user: UserRow): Record<string, unknown> {
  const iso = (date: Date | null) => (date ? date.toISOString() : undefined);
  return {
    id: user.id,
    aud: user.aud ?? 'authenticated',
    role: user.role ?? 'authenticated',
    email: user.email ?? '',
    email_confirmed_at: iso(user.email_confirmed_at),
    phone: '',
    confirmed_at: iso(user.email_confirmed_at),
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: appMetadata(user),
    user_metadata: user.raw_user_meta_data,
    identities: [],
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
    is_anonymous: false,
  };
}
