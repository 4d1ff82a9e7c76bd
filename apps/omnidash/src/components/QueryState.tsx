import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { errorMessage } from '../data/errors.ts';

/**
 * The loading, error and empty states every list and panel has, the same
 * everywhere: `children` renders the data once there is some.
 */
export function QueryState<T>({
  query,
  label,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  /** What is loading, for the messages: "tasks", "API keys". */
  label: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <p className="state state-loading" role="status">
        Loading {label}…
      </p>
    );
  }
  if (query.isError) {
    return (
      <div className="state state-error" role="alert">
        <p>
          Could not load {label}: {errorMessage(query.error)}
        </p>
        <button className="btn" type="button" onClick={() => void query.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  if (isEmpty?.(query.data)) return <div className="state state-empty">{empty}</div>;
  return <>{children(query.data)}</>;
}
