import type { TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { expect } from 'vitest';
import { DataError } from '../../src/data/errors.ts';

export type Role = 'viewer' | 'operator' | 'admin';

/** A new member of `tenantId` with `role`, and a supabase-js client signed in as them. */
export async function member(
  t: TestStack,
  tenantId: string,
  role: Role,
): Promise<{ id: string; client: SupabaseClient }> {
  const user = await t.createUser({ tenantId, role });
  return { id: user.id, client: await t.supabaseAs(await t.accessToken(user)) };
}

/** What a refused call threw: always a DataError. */
export async function refusal(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

/** POST /events with `apiKey`, as an agent would: one event of `type`. */
export async function sendEvent(t: TestStack, apiKey: string, type: string) {
  const response = await fetch(`${t.stack.portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type, idempotency_key: crypto.randomUUID() }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
