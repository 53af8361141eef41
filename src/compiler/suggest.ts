// "Did you mean ...?": the closest names by edit distance.

export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** Candidates close to `name`, best first (at most `limit`). */
export function closest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored: { c: string; d: number }[] = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(name, c);
    const max = Math.max(2, Math.floor(Math.max(name.length, c.length) / 2));
    if (d <= max || c.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(c.toLowerCase())) scored.push({ c, d });
  }
  return scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c)).slice(0, limit).map((s) => s.c);
}

/** ` Did you mean "a"?` or "" */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closest(name, candidates, 1)[0];
  return best !== undefined ? ` Did you mean "${best}"?` : "";
}

export function quoteList(names: readonly string[]): string {
  return names.length ? names.map((n) => `"${n}"`).join(", ") : "none";
}
