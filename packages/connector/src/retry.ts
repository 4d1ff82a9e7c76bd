/** How long and how often a call is retried. */
export interface RetryPolicy {
  /** Give up when the next wait would end later than this after the first try. */
  maxElapsedMs: number;
  /** First backoff; doubles each retry. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxElapsedMs: 120_000,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * The wait before retry `retry` (0-based): exponential, capped, with "equal
 * jitter" (half fixed, half random), so many agents that failed together do
 * not come back together yet none retries at once.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retry);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A wait that ends early (rejecting with the abort reason) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
