import { ErrorResponse, HealthResponse } from '@omnihub/contracts';
import { useQuery } from '@tanstack/react-query';
import { useBackend } from '../../supabase-context.tsx';
import { healthKeys } from './keys.ts';

/**
 * What the port's GET /health said about the deployment-wide switch
 * (OMNILINK_ENABLED): `on` (200), `off` (503 omnilink_disabled),
 * `unreachable` (no answer), or `unexpected` (an answer outside the contract).
 */
export type PortHealth =
  | { state: 'on'; version: string; checkedAt: string }
  | { state: 'off'; message: string; checkedAt: string }
  | { state: 'unreachable'; message: string; checkedAt: string }
  | { state: 'unexpected'; message: string; checkedAt: string };

/** Long enough for a cold Edge Function, short enough that "cannot reach" comes in time. */
export const HEALTH_TIMEOUT_MS = 10_000;

/**
 * Asks the port directly (no Supabase client: /health needs no key; the
 * port's CORS allows any origin). Every outcome is an answer to show, so it
 * never throws.
 */
export async function fetchPortHealth(
  portUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<PortHealth> {
  let response: Response;
  try {
    response = await fetchImpl(`${portUrl}/health`, {
      headers: { accept: 'application/json' },
      cache: 'no-store',
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return {
      state: 'unreachable',
      message: timedOut
        ? `The port did not answer within ${HEALTH_TIMEOUT_MS / 1000} seconds.`
        : 'The request to the port failed (network error, or the port is not deployed).',
      checkedAt: new Date().toISOString(),
    };
  }
  const checkedAt = new Date().toISOString();
  const body: unknown = await response.json().catch(() => null);
  if (response.status === 200) {
    const health = HealthResponse.safeParse(body);
    if (health.success) return { state: 'on', version: health.data.version, checkedAt };
  }
  if (response.status === 503) {
    const refusal = ErrorResponse.safeParse(body);
    if (refusal.success && refusal.data.error === 'omnilink_disabled')
      return { state: 'off', message: refusal.data.message, checkedAt };
  }
  return {
    state: 'unexpected',
    message: `The port answered HTTP ${response.status}${
      response.statusText ? ` ${response.statusText}` : ''
    }, not what GET /health answers.`,
    checkedAt,
  };
}

/** Re-checked every minute while shown, and on demand. */
export function usePortHealthQuery() {
  const { portUrl } = useBackend();
  return useQuery({
    queryKey: healthKeys.port(portUrl),
    queryFn: () => fetchPortHealth(portUrl),
    staleTime: 0,
    refetchInterval: 60_000,
  });
}
