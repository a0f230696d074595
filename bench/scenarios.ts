/**
 * The demo app's workloads: which requests each benchmark scenario sends. Keys are drawn from
 * seeded ids 1..rows; a seeded pseudo-random generator keeps runs comparable.
 */
import type { LoadRequest } from './load-generator.ts'

/** One workload. */
export interface Scenario {
  name: 'read-hot' | 'read-spread' | 'list' | 'write' | 'upstream'
  /** What it models, for the report. */
  description: string
  /** A request generator for `rows` seeded items. */
  requests (rows: number): () => LoadRequest
}

/** Hot keys: the 100 most-read items, read uniformly. */
const HOT_KEYS = 100

/** Zipf exponent of the realistic spread: item k is read in proportion to 1 / k^s. */
const ZIPF_EXPONENT = 1

/** Categories the seed step uses (demo-app/db/seed.ts). */
const CATEGORIES = ['books', 'games', 'garden', 'kitchen', 'music', 'sports', 'tools', 'toys']

/** A small, fast, seeded generator (mulberry32): the same sequence on every run. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws ids 1..n with Zipf(s) probabilities, by binary search over the cumulative weights. */
export function zipfSampler (n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n)
  let total = 0
  for (let k = 1; k <= n; k++) {
    total += 1 / k ** s
    cumulative[k - 1] = total
  }
  return () => {
    const target = random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cumulative[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    // Rank k is mapped to a spread-out id so hot items are not all neighbours on disk.
    return ((lo * 7919) % n) + 1
  }
}

/** The scenarios in the order they run within a round. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'read-hot',
    description: `GET /api/items/:id over ${HOT_KEYS} hot keys (uniform)`,
    requests: (rows) => {
      const random = seededRandom(1)
      const keys = Math.min(HOT_KEYS, rows)
      return () => ({ method: 'GET', path: `/api/items/${1 + Math.floor(random() * keys)}` })
    }
  },
  {
    name: 'read-spread',
    description: `GET /api/items/:id over all seeded ids, Zipf (s=${ZIPF_EXPONENT})`,
    requests: (rows) => {
      const next = zipfSampler(rows, ZIPF_EXPONENT, seededRandom(2))
      return () => ({ method: 'GET', path: `/api/items/${next()}` })
    }
  },
  {
    name: 'list',
    description: 'GET /api/items with a category, price range, name search or page offset',
    requests: () => {
      const random = seededRandom(3)
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
      return () => {
        const kind = Math.floor(random() * 4)
        let query: string
        if (kind === 0) query = `category=${pick(CATEGORIES)}&limit=20`
        else if (kind === 1) {
          const min = Math.floor(random() * 90_000)
          query = `minPriceCents=${min}&maxPriceCents=${min + 2000}&limit=20`
        } else if (kind === 2) query = `q=${encodeURIComponent(`Item ${1 + Math.floor(random() * 999)}`)}&limit=10`
        else query = `category=${pick(CATEGORIES)}&inStock=true&offset=${20 * Math.floor(random() * 50)}&limit=20`
        return { method: 'GET', path: `/api/items?${query}` }
      }
    }
  },
  {
    name: 'write',
    description: 'PATCH /api/items/:id (stock) on uniformly drawn ids; invalidates the cached item',
    requests: (rows) => {
      const random = seededRandom(4)
      return () => ({ method: 'PATCH', path: `/api/items/${1 + Math.floor(random() * rows)}`, json: { stock: Math.floor(random() * 500) } })
    }
  },
  {
    name: 'upstream',
    description: 'GET /api/upstream/quote: one call to the upstream through the HTTP client',
    requests: () => () => ({ method: 'GET', path: '/api/upstream/quote' })
  }
]
