import { describe, expect, it } from 'vitest';
import { formatRate, formatRelative } from './format.ts';

describe('formatRate', () => {
  it('shows a share of a whole, and a dash when there is no whole', () => {
    expect(formatRate(5, 8)).toMatch(/62[.,]5\s?%/);
    expect(formatRate(0, 0)).toBe('—');
  });
});

describe('formatRelative', () => {
  it('says how long ago, in the largest fitting unit', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatRelative('2026-01-01T11:57:00Z', now)).toBe('3 minutes ago');
    expect(formatRelative('2026-01-01T09:00:00Z', now)).toBe('3 hours ago');
    expect(formatRelative(null, now)).toBe('—');
  });
});
