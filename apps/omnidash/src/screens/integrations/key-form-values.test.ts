import { describe, expect, it } from 'vitest';
import { expiresAtFor, localDateInputValue, parseMaxRpm } from './key-form-values.ts';

const now = new Date(2026, 10, 21, 10, 0, 0);

describe('expiresAtFor', () => {
  it('gives null for a key that never expires', () => {
    expect(expiresAtFor('never', '', now)).toEqual({ expiresAt: null });
  });

  it('counts 30 and 90 days from now, and a calendar year', () => {
    expect(expiresAtFor('30d', '', now)).toEqual({
      expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    });
    expect(expiresAtFor('90d', '', now)).toEqual({
      expiresAt: new Date(now.getTime() + 90 * 86_400_000).toISOString(),
    });
    expect(expiresAtFor('1y', '', now)).toEqual({
      expiresAt: new Date(2027, 10, 21, 10, 0, 0).toISOString(),
    });
  });

  it('ends a chosen date at the end of that day, local time', () => {
    expect(expiresAtFor('date', '2026-12-31', now)).toEqual({
      expiresAt: new Date(2026, 11, 31, 23, 59, 59, 999).toISOString(),
    });
    expect(expiresAtFor('date', localDateInputValue(now), now)).toEqual({
      expiresAt: new Date(2026, 10, 21, 23, 59, 59, 999).toISOString(),
    });
  });

  it('refuses a missing or past date with a sentence', () => {
    expect(expiresAtFor('date', '', now)).toEqual({
      problem: 'Choose the day the key stops working.',
    });
    expect(expiresAtFor('date', '2026-11-20', now)).toEqual({
      problem: 'Choose today or a later day: a key cannot expire in the past.',
    });
  });
});

describe('parseMaxRpm', () => {
  it('reads empty as no limit and digits as the limit', () => {
    expect(parseMaxRpm('  ')).toEqual({ maxRpm: null });
    expect(parseMaxRpm(' 120 ')).toEqual({ maxRpm: 120 });
  });

  it('refuses zero, fractions, negatives and numbers past a Postgres integer', () => {
    expect(parseMaxRpm('0')).toHaveProperty('problem');
    expect(parseMaxRpm('1.5')).toHaveProperty('problem');
    expect(parseMaxRpm('-3')).toHaveProperty('problem');
    expect(parseMaxRpm('1e3')).toHaveProperty('problem');
    expect(parseMaxRpm('2147483648')).toHaveProperty('problem');
    expect(parseMaxRpm('2147483647')).toEqual({ maxRpm: 2147483647 });
  });
});
