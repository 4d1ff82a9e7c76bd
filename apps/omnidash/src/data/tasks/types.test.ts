import { describe, expect, it } from 'vitest';
import { compareTimestamps, newerVersion } from './types.ts';

describe('compareTimestamps', () => {
  it('orders by microseconds when both sides have them', () => {
    expect(
      compareTimestamps('2026-11-21T10:00:00.000001+00:00', '2026-11-21T10:00:00.000002+00:00'),
    ).toBeLessThan(0);
    expect(
      compareTimestamps('2026-11-21T10:00:01.5+00:00', '2026-11-21T10:00:00.999999+00:00'),
    ).toBeGreaterThan(0);
  });

  it('reads the same instant at different precisions as equal', () => {
    expect(
      compareTimestamps('2026-11-21T22:10:55.379638+00:00', '2026-11-21T22:10:55.379+00:00'),
    ).toBe(0);
    expect(compareTimestamps('2026-11-21T10:00:00Z', '2026-11-21T10:00:00.000+00:00')).toBe(0);
  });

  it('compares across time zones', () => {
    expect(compareTimestamps('2026-11-21T11:00:00+01:00', '2026-11-21T10:00:00Z')).toBe(0);
  });
});

describe('newerVersion', () => {
  const at = (updated_at: string) => ({ id: 'a', updated_at });

  it('keeps the later version, and the incoming one on a tie', () => {
    const old = at('2026-11-21T10:00:00.000001+00:00');
    const later = at('2026-11-21T10:00:00.000002+00:00');
    expect(newerVersion(later, old)).toBe(later);
    expect(newerVersion(old, later)).toBe(later);
    const same = at('2026-11-21T10:00:00.000001+00:00');
    expect(newerVersion(old, same)).toBe(same);
  });
});
