/** Expiry choices for a new key; a date means the end of that day in the user's time zone. */
export const EXPIRY_CHOICES = [
  { value: 'never', label: 'Never' },
  { value: '30d', label: 'In 30 days' },
  { value: '90d', label: 'In 90 days' },
  { value: '1y', label: 'In 1 year' },
  { value: 'date', label: 'On a date…' },
] as const;

export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]['value'];

const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of `now` in local time, as <input type="date"> wants it. */
export function localDateInputValue(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * When a key with this choice expires (ISO), or null for never; a problem
 * sentence when the date is missing or past. Computed at submit, not render.
 */
export function expiresAtFor(
  choice: ExpiryChoice,
  date: string,
  now: Date,
): { expiresAt: string | null } | { problem: string } {
  switch (choice) {
    case 'never':
      return { expiresAt: null };
    case '30d':
      return { expiresAt: new Date(now.getTime() + 30 * DAY_MS).toISOString() };
    case '90d':
      return { expiresAt: new Date(now.getTime() + 90 * DAY_MS).toISOString() };
    case '1y': {
      const inAYear = new Date(now);
      inAYear.setFullYear(inAYear.getFullYear() + 1);
      return { expiresAt: inAYear.toISOString() };
    }
    case 'date': {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
      if (!match) return { problem: 'Choose the day the key stops working.' };
      const endOfDay = new Date(
        Number(match[1]),
        Number(match[2]) - 1,
        Number(match[3]),
        23,
        59,
        59,
        999,
      );
      if (Number.isNaN(endOfDay.getTime())) return { problem: 'Choose a valid date.' };
      if (endOfDay.getTime() <= now.getTime())
        return { problem: 'Choose today or a later day: a key cannot expire in the past.' };
      return { expiresAt: endOfDay.toISOString() };
    }
  }
}

/** Postgres `integer`, the column's type. */
const MAX_INT = 2_147_483_647;

/** The optional requests-per-minute limit: empty for none, else a whole number from 1. */
export function parseMaxRpm(text: string): { maxRpm: number | null } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { maxRpm: null };
  if (!/^\d+$/.test(trimmed))
    return { problem: 'Enter a whole number of requests per minute, or leave it empty.' };
  const value = Number(trimmed);
  if (value < 1) return { problem: 'Enter at least 1, or leave it empty for no limit.' };
  if (value > MAX_INT) return { problem: `Enter at most ${MAX_INT.toLocaleString()}.` };
  return { maxRpm: value };
}
