import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALL_SCOPES } from '@omnihub/contracts';
import type { Sql } from '@omnihub/database';

export const DEMO_TENANT = 'demo';
export const DEMO_SOURCES = ['lead-gen', 'apex-sales'] as const;
const DEMO_KEY_NAME = 'demo (pnpm dev)';

export interface DemoKey {
  source: string;
  keyId: string;
  apiKey: string;
}

/**
 * The local stack's own secret, created once per data dir (mode 0600). The
 * demo keys' secrets are derived from it, so `pnpm dev` can print the same
 * working keys on every start while the database keeps only their hashes.
 */
export async function loadLocalSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, 'local-secret');
  if (existsSync(path)) return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  const secret = randomBytes(32);
  await writeFile(path, `${secret.toString('hex')}\n`, { mode: 0o600 });
  return secret;
}

function demoSecret(localSecret: Buffer, keyId: string): string {
  return createHmac('sha256', localSecret).update(`omnihub demo key ${keyId}`).digest('base64url');
}

/**
 * Makes sure the demo tenant has a live key per demo source and returns them
 * in plaintext. A demo key that was revoked or expired is replaced, never
 * revived.
 */
export async function ensureDemoKeys(sql: Sql, localSecret: Buffer): Promise<DemoKey[]> {
  const keys: DemoKey[] = [];
  for (const source of DEMO_SOURCES) {
    const [integration] = await sql`
      select omnilink.ensure_integration(omnilink.ensure_tenant(${DEMO_TENANT}, 'Demo'), ${source}) as id`;
    const live = await sql`
      select k.key_id, encode(s.secret_sha256, 'hex') as sha256
      from public.api_keys k join omnilink.api_key_secrets s on s.api_key_id = k.id
      where k.integration_id = ${integration!.id} and k.name = ${DEMO_KEY_NAME}
        and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
      order by k.created_at desc`;
    let key = live
      .map((row) => ({
        keyId: row.key_id as string,
        secret: demoSecret(localSecret, row.key_id as string),
        sha256: row.sha256 as string,
      }))
      .find((candidate) => sha256Hex(candidate.secret) === candidate.sha256);
    if (!key) {
      const [{ key_id: keyId }] =
        (await sql`select omnilink.random_key_id() as key_id`) as unknown as [{ key_id: string }];
      const secret = demoSecret(localSecret, keyId);
      await sql`
        select omnilink.insert_api_key(
          ${integration!.id}, ${keyId}, decode(${sha256Hex(secret)}, 'hex'),
          string_to_array(${ALL_SCOPES.join(',')}, ','), null, null, ${DEMO_KEY_NAME}
        )`;
      key = { keyId, secret, sha256: '' };
    }
    keys.push({ source, keyId: key.keyId, apiKey: `omni.${key.keyId}.${key.secret}` });
  }
  return keys;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const DEMO_OPERATOR_EMAIL = 'admin@omnihub.local';

export interface DemoOperator {
  email: string;
  password: string;
}

/**
 * The demo tenant's admin login for OmniDash. Its password is
 * OMNIHUB_ADMIN_PASSWORD when set, else derived from the local secret (so
 * `pnpm dev` can print it every time); the database keeps only a bcrypt hash.
 */
export async function ensureDemoOperator(
  sql: Sql,
  localSecret: Buffer,
  chosenPassword?: string,
): Promise<DemoOperator> {
  const password =
    chosenPassword ??
    createHmac('sha256', localSecret)
      .update('omnihub demo operator password')
      .digest('base64url')
      .slice(0, 20);
  const [user] = await sql`
    insert into auth.users (email, encrypted_password, email_confirmed_at)
    values (${DEMO_OPERATOR_EMAIL}, extensions.crypt(${password}, extensions.gen_salt('bf')), now())
    on conflict (email) do update
      set encrypted_password = extensions.crypt(${password}, extensions.gen_salt('bf')), updated_at = now()
      where auth.users.encrypted_password is distinct from extensions.crypt(${password}, auth.users.encrypted_password)
    returning id`;
  const [existing] = user
    ? [user]
    : await sql`select id from auth.users where email = ${DEMO_OPERATOR_EMAIL}`;
  await sql`
    insert into public.tenant_members (tenant_id, user_id, role)
    select t.id, ${existing!.id}, 'admin' from public.tenants t where t.slug = ${DEMO_TENANT}
    on conflict (tenant_id, user_id) do update set role = 'admin'`;
  return { email: DEMO_OPERATOR_EMAIL, password };
}
