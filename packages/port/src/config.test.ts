import { describe, expect, it } from 'vitest';
import { parseBooleanSetting, parsePortConfig } from './config.ts';

describe('parseBooleanSetting', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['on', true],
    ['On', true],
    ['  true  ', true],
    ['\tyes\n', true],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['no', false],
    ['No', false],
    ['off', false],
    ['OFF', false],
    [' off ', false],
  ])('reads %j as %s', (raw, expected) => {
    // The fallback is the opposite, so a fallback answer cannot pass by accident.
    expect(parseBooleanSetting('FLAG', raw, !expected)).toBe(expected);
  });

  it.each([undefined, '', '   '])('returns the fallback for %j', (raw) => {
    expect(parseBooleanSetting('FLAG', raw, true)).toBe(true);
    expect(parseBooleanSetting('FLAG', raw, false)).toBe(false);
  });

  it.each(['flase', 'enabled', 'y', 'n', '2', 'truee', 'tru e', 'null'])(
    'throws naming the variable for %j',
    (raw) => {
      expect(() => parseBooleanSetting('OMNILINK_ENABLED', raw, true)).toThrow(Error);
      expect(() => parseBooleanSetting('OMNILINK_ENABLED', raw, true)).toThrow(
        /^OMNILINK_ENABLED /,
      );
      expect(() => parseBooleanSetting('OMNILINK_ENABLED', raw, true)).toThrow(JSON.stringify(raw));
    },
  );
});

describe('parsePortConfig', () => {
  it('is enabled when nothing is set', () => {
    expect(parsePortConfig({})).toEqual({ enabled: true });
    expect(parsePortConfig({ OMNILINK_ENABLED: undefined })).toEqual({ enabled: true });
  });

  it.each(['false', '0', 'off', 'no', 'FALSE'])('is disabled by OMNILINK_ENABLED=%s', (value) => {
    expect(parsePortConfig({ OMNILINK_ENABLED: value })).toEqual({ enabled: false });
  });

  it('stays enabled for OMNILINK_ENABLED=true and ignores other variables', () => {
    expect(parsePortConfig({ OMNILINK_ENABLED: 'true', OTHER: 'false' })).toEqual({
      enabled: true,
    });
  });

  it('refuses a typo rather than guessing', () => {
    expect(() => parsePortConfig({ OMNILINK_ENABLED: 'fasle' })).toThrow(/OMNILINK_ENABLED/);
  });
});
