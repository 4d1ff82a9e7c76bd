const UINT32_RANGE = 0x1_0000_0000;

/** FNV-1a over UTF-8, so a seed typed on any platform hashes the same. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function seedToUint32(seed: number | string): number {
  if (typeof seed === 'string') {
    // A seed printed by a run (a number) and typed back on the command line
    // (a string) must replay the same run.
    if (/^(0|[1-9]\d*)$/.test(seed) && Number(seed) < UINT32_RANGE) return Number(seed);
    return hashString(seed);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer or a string, got ${seed}`);
  }
  return seed >>> 0;
}

/**
 * A repeatable random source: the same seed gives the same sequence
 * (mulberry32; string seeds are hashed, except decimal strings of numbers
 * below 2^32, which equal that number). Values are in [0, 1).
 */
export function seededRandom(seed: number | string): () => number {
  let state = seedToUint32(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / UINT32_RANGE;
  };
}
