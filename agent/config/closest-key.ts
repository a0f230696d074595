/**
 * "Did you mean …?" for unknown keys and enum values: the nearest candidate by edit distance.
 */

/** Levenshtein distance between two strings (insertions, deletions, substitutions each cost 1). */
export function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * The candidate closest to `input`, or `undefined` when none is close enough to be a plausible typo
 * (at most 2 edits, or a third of the word for long words; case differences count as one edit).
 */
export function closestKey (input: string, candidates: Iterable<string>): string | undefined {
  const allowed = Math.max(2, Math.floor(input.length / 3))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === input.toLowerCase() ? 1 : editDistance(input, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= allowed ? best : undefined
}
