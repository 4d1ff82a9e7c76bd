import { useEffect, useState } from 'react';
import { formatDateTime, formatRelative } from './format.ts';

/** A time shown as "2 minutes ago" that stays current, with the exact time on hover and for screen readers. */
export function RelativeTime({ iso }: { iso: string | null | undefined }) {
  const now = useNow(15_000);
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}

/** The current time, re-read every `intervalMs` so time-based labels (ago, online) move on. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
