import { describe, expect, it } from 'vitest';
import { apiKeyState, type ApiKey } from './api-keys-query.ts';

const key: ApiKey = {
  id: '00000000-0000-4000-8000-000000000001',
  integration_id: '00000000-0000-4000-8000-000000000002',
  key_id: 'abcd1234',
  name: null,
  scopes: ['events:write'],
  max_rpm: null,
  expires_at: null,
  revoked_at: null,
  last_used_at: null,
  created_at: '2026-11-01T00:00:00Z',
};
const now = Date.parse('2026-11-21T12:00:00Z');

describe('apiKeyState', () => {
  it('is active without a revocation or a past expiry', () => {
    expect(apiKeyState(key, now)).toBe('active');
    expect(apiKeyState({ ...key, expires_at: '2026-11-21T12:00:01Z' }, now)).toBe('active');
  });

  it('is expired from the expiry time on', () => {
    expect(apiKeyState({ ...key, expires_at: '2026-11-21T12:00:00Z' }, now)).toBe('expired');
  });

  it('is revoked when revoked, even once expired', () => {
    expect(
      apiKeyState(
        { ...key, revoked_at: '2026-11-10T00:00:00Z', expires_at: '2026-11-11T00:00:00Z' },
        now,
      ),
    ).toBe('revoked');
  });
});
