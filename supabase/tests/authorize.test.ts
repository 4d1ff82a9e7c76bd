import {
  createTestDatabase,
  issueKey,
  type IssuedKey,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretOf, sha256Hex } from './fixtures.ts';

let db: TestDatabase;
let key: IssuedKey;
let hash: string;

beforeAll(async () => {
  db = await createTestDatabase();
  key = await issueKey(db.sql, { tenant: 'acme', source: 'lead-gen', scopes: ['events:write'] });
  hash = sha256Hex(secretOf(key.apiKey));
});
afterAll(() => db.drop());

async function authorize(secretHash: string | null, scopes: string | null) {
  const [row] =
    await db.sql`select omnilink.port_authorize(${key.keyId}, ${secretHash}::text, ${scopes}::text[]) as r`;
  return row!.r as Record<string, unknown>;
}

describe('omnilink.authorize fails closed', () => {
  it('accepts the right hash and a held scope (control)', async () => {
    expect(await authorize(hash, '{events:write}')).toMatchObject({
      tenant_id: key.tenantId,
      source: 'lead-gen',
    });
  });

  it.each<[string, () => string | null]>([
    ['a NULL hash', () => null],
    ['an empty hash', () => ''],
    ['a hash that is not hex', () => 'z'.repeat(64)],
    ['a hash in capitals', () => hash.toUpperCase()],
    ['a hash one character short', () => hash.slice(1)],
  ])('refuses %s as unauthorized', async (_name, candidate) => {
    expect(await authorize(candidate(), '{events:write}')).toMatchObject({ error: 'unauthorized' });
  });

  it.each([
    ['NULL scopes', null],
    ['no scopes', '{}'],
    ['only scopes the key lacks', '{tasks:claim}'],
  ])('refuses %s as permission_denied', async (_name, scopes) => {
    expect(await authorize(hash, scopes)).toMatchObject({ error: 'permission_denied' });
  });
});
