import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['45s', 45],
    ['30m', 1800],
    ['12h', 43_200],
    ['90d', 7_776_000],
    ['2w', 1_209_600],
    ['1w2d', 777_600],
    [' 1H ', 3600],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '90', 'd', '1y', '-1d', '1.5h', '0s', 'soon'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
