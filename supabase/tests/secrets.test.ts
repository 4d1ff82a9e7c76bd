import type { Sql } from '@omnihub/database';
import { ALL_SCOPES } from '@omnihub/contracts';
import { createTestDatabase, issueKey, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAs, signedIn } from './as-role.ts';
import { addMember, createUser, secretOf, sha256Hex } from './fixtures.ts';
import { listTables, listUserSchemas, qualifiedName, rowsAsText } from './tables.ts';

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db.drop());

/** Every substring of the given length: 16 random base64url characters never occur by chance. */
const windowsOf = (text: string, length: number): string[] =>
  Array.from({ length: text.length - length + 1 }, (_, i) => text.slice(i, i + length));

describe('key secrets at rest', () => {
  /** Plaintext keys as their callers received them: the only copies that may exist. */
  let issued: { apiKey: string; keyId: string }[];

  beforeAll(async () => {
    const fromCli = [
      await issueKey(sql, { tenant: 'acme', source: 'lead-gen' }),
      await issueKey(sql, { tenant: 'acme', source: 'apex-sales', scopes: ['events:write'] }),
      await issueKey(sql, { tenant: 'globex', source: 'lead-gen', maxRpm: 10 }),
    ];
    // The dashboard path: an admin member calling the RPC as a signed-in user.
    const adminId = await createUser(sql, 'admin@acme.test');
    await addMember(sql, fromCli[0]!.tenantId, adminId, 'admin');
    const fromDashboard: { apiKey: string; keyId: string }[] = [];
    for (const name of ['dashboard key one', 'dashboard key two']) {
      const outcome = await runAs(sql, signedIn(adminId), async (tx) => {
        const [row] = await tx`
          select public.create_api_key(${fromCli[0]!.integrationId}::uuid, '{tasks:claim,tasks:complete}'::text[],
                                       p_name => ${name}) as r`;
        return row!.r as { api_key: string; key_id: string };
      });
      if (!outcome.ok)
        throw new Error(`create_api_key refused: ${outcome.code} ${outcome.message}`);
      fromDashboard.push({ apiKey: outcome.value.api_key, keyId: outcome.value.key_id });
    }
    issued = [...fromCli.map((k) => ({ apiKey: k.apiKey, keyId: k.keyId })), ...fromDashboard];
  });

  it('stores SHA-256(secret) for each key in omnilink.api_key_secrets', async () => {
    expect(issued).toHaveLength(5);
    for (const key of issued) {
      const rows = await sql`
        select encode(s.secret_sha256, 'hex') as sha256
        from omnilink.api_key_secrets s join public.api_keys k on k.id = s.api_key_id
        where k.key_id = ${key.keyId}`;
      expect(rows).toEqual([{ sha256: sha256Hex(secretOf(key.apiKey)) }]);
    }
  });

  it('keeps no key plaintext or secret in any column of any table of any non-system schema', async () => {
    const schemas = await listUserSchemas(sql);
    expect(schemas).toEqual(
      expect.arrayContaining(['public', 'omnilink', 'auth', 'supabase_migrations']),
    );
    const tables = await listTables(sql, schemas);
    expect(tables.length).toBeGreaterThan(0);

    // The plaintext in the forms a careless column could hold it: any 16
    // characters of a secret (so a prefix, a log line or the full key is
    // caught too), and the hex Postgres prints for a bytea of its UTF-8 bytes.
    const needles = issued.flatMap((key) => {
      const secret = secretOf(key.apiKey);
      return [...windowsOf(secret, 16), Buffer.from(secret, 'utf8').toString('hex')];
    });
    const found: string[] = [];
    let rowsSearched = 0;
    for (const table of tables) {
      for (const row of await rowsAsText(sql, table)) {
        rowsSearched++;
        if (needles.some((needle) => row.includes(needle))) found.push(qualifiedName(table));
      }
    }
    // The search really looked at the key rows (5 keys, their hashes, tenants, ...).
    expect(rowsSearched).toBeGreaterThanOrEqual(10);
    expect(found).toEqual([]);
  });
});

describe('scopes', () => {
  /** The quoted literals in a CHECK constraint's definition, e.g. ARRAY['events:write'::text, ...]. */
  const literalsOf = (definition: string): string[] =>
    [...definition.matchAll(/'([^']*)'::text/g)].map((match) => match[1]!);

  it("api_keys_scopes_known allows exactly the contract's scopes", async () => {
    const [row] = await sql`
      select pg_get_constraintdef(c.oid) as definition
      from pg_constraint c
      where c.conname = 'api_keys_scopes_known' and c.conrelid = 'public.api_keys'::regclass`;
    expect(row).toBeDefined();
    expect([...literalsOf(row!.definition as string)].sort()).toEqual([...ALL_SCOPES].sort());
  });

  it("issue_api_key accepts a key with every one of the contract's scopes", async () => {
    const key = await issueKey(sql, { tenant: 'scopes', source: 'all', scopes: ALL_SCOPES });
    const [row] =
      await sql`select scopes::text as scopes from public.api_keys where key_id = ${key.keyId}`;
    expect(row!.scopes).toBe(`{${[...ALL_SCOPES].sort().join(',')}}`);
  });
});
