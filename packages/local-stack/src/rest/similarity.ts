/**
 * PostgREST's "Perhaps you meant …" hints for a mistyped table or function
 * name. PostgREST uses a fuzzy set with a 0.75 minimum score; this uses the
 * Dice coefficient of letter pairs with the same threshold, which agrees on
 * the usual slips (a missing plural s, a swapped or doubled letter).
 */
export function closestName(wanted: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = dice(wanted.toLowerCase(), candidate.toLowerCase());
    if (score >= 0.75 && (!best || score > best.score)) best = { name: candidate, score };
  }
  return best?.name;
}

function pairs(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < text.length - 1; i += 1) {
    const pair = text.slice(i, i + 2);
    counts.set(pair, (counts.get(pair) ?? 0) + 1);
  }
  return counts;
}

function dice(a: string, b: string): number {
  if (a === b) return 1;
  const pa = pairs(a);
  const pb = pairs(b);
  let shared = 0;
  for (const [pair, count] of pa) shared += Math.min(count, pb.get(pair) ?? 0);
  const total = Math.max(a.length - 1, 0) + Math.max(b.length - 1, 0);
  return total === 0 ? 0 : (2 * shared) / total;
}
