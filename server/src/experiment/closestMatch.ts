/** "Did you mean" for keys, enum values and layer names. */

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `word` when it is plausibly a typo of it (case and `-`/`_` ignored). */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_ ]/g, '');
  const target = norm(word);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = norm(candidate);
    let score = editDistance(target, c);
    if (c.startsWith(target) || target.startsWith(c)) score = Math.min(score, 1);
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  const allowed = Math.max(2, Math.floor(target.length / 3));
  return bestScore <= allowed ? best : undefined;
}
