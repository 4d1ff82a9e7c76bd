/** Settings the port reads from its environment, parsed once when the app is built. */
export interface PortConfig {
  /** The deployment-wide kill switch: false makes every route answer 503 `omnilink_disabled`. */
  enabled: boolean;
}

export type PortEnv = Record<string, string | undefined>;

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Parses a boolean setting; a typo fails loudly rather than silently leaving a kill switch in the wrong state. */
export function parseBooleanSetting(
  name: string,
  raw: string | undefined,
  fallback: boolean,
): boolean {
  if (raw === undefined || raw.trim() === '') return fallback;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new Error(`${name} must be true or false (got ${JSON.stringify(raw)}).`);
}

export function parsePortConfig(env: PortEnv): PortConfig {
  return { enabled: parseBooleanSetting('OMNILINK_ENABLED', env.OMNILINK_ENABLED, true) };
}
