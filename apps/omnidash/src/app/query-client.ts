import { QueryClient } from '@tanstack/react-query';
import { DataError } from '../data/errors.ts';

/**
 * Realtime keeps the cache current, so data is fresh until a change says
 * otherwise; refused requests (RLS, a role too low, bad input) are not
 * retried, since a retry gets the same answer.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (failures, error) =>
          !(error instanceof DataError && error.isRefusal) && failures < 2,
      },
      mutations: { retry: false },
    },
  });
}
