import { describe, expect, it } from 'vitest';
import { fetchPortHealth } from './port-health-query.ts';

const PORT = 'https://ref.supabase.co/functions/v1/omnilink-port';

function answering(status: number, body: unknown): typeof fetch {
  return async (input) => {
    expect(String(input)).toBe(`${PORT}/health`);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
}

describe('fetchPortHealth', () => {
  it('reads 200 {status: ok} as on, with the version', async () => {
    expect(await fetchPortHealth(PORT, answering(200, { status: 'ok', version: '1.2.3' }))).toEqual(
      {
        state: 'on',
        version: '1.2.3',
        checkedAt: expect.any(String),
      },
    );
  });

  it('reads 503 omnilink_disabled as off, with the port message', async () => {
    const message = 'OmniLink is switched off for this deployment (OMNILINK_ENABLED=false).';
    expect(
      await fetchPortHealth(PORT, answering(503, { error: 'omnilink_disabled', message })),
    ).toMatchObject({ state: 'off', message });
  });

  it('says the port cannot be reached when the request fails', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await fetchPortHealth(PORT, failing)).toMatchObject({
      state: 'unreachable',
      message: 'The request to the port failed (network error, or the port is not deployed).',
    });
  });

  it('does not take any other answer for on or off', async () => {
    for (const [status, body] of [
      [503, { error: 'internal', message: 'boom' }],
      [502, '<html>Bad gateway</html>'],
      [200, { status: 'starting' }],
      [404, { error: 'not_found', message: 'No such endpoint.' }],
    ] as const) {
      const health = await fetchPortHealth(PORT, answering(status, body));
      expect(health.state).toBe('unexpected');
      expect(health).toMatchObject({ message: expect.stringContaining(`HTTP ${status}`) });
    }
  });
});
