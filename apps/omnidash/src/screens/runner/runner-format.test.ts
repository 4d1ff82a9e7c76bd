import { describe, expect, it } from 'vitest';
import { formatAge, maxRunningProblem } from './runner-format.ts';

describe('formatAge', () => {
  it.each([
    [null, '—'],
    [0, '0 s'],
    [59, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [3660 + 300, '1 h 6 min'],
    [48 * 3600, '2 d'],
  ])('shows %s seconds as %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});

describe('maxRunningProblem', () => {
  it.each([
    ['1', null],
    [' 1000 ', null],
    ['0', 'Must be from 1 to 1000.'],
    ['1001', 'Must be from 1 to 1000.'],
    ['2.5', 'Enter a whole number from 1 to 1000.'],
    ['', 'Enter a whole number from 1 to 1000.'],
    ['-3', 'Enter a whole number from 1 to 1000.'],
  ])('says %j → %s', (text, problem) => {
    expect(maxRunningProblem(text)).toBe(problem);
  });
});
