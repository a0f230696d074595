/**
 * The stats documents the target farm serves: valid `outrigger.stats/v1` with a chosen number of
 * routes, counters that grow on every read.
 */
import { STATS_SCHEMA_V1, type StatsDocument, type StatsHistogram } from '../contract/stats-v1.ts'

/** Series the agent makes of one route: the request counter and a 12-bucket histogram (+Inf, sum, count). */
export const SERIES_PER_ROUTE = 16

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Most routes one document may carry (the contract's limit). */
export const MAX_ROUTES = 1000
const startTimeSeconds = Math.round(Date.now() / 1000)
let reads = 0

function histogram (count: number): StatsHistogram {
  // Cumulative counts that grow with each read; every bucket holds a share of `count`.
  return {
    buckets: BUCKETS.map((le, i) => ({ le, count: Math.floor(count * (i + 1) / BUCKETS.length) })),
    sum: count * 0.004,
    count
  }
}

/** A document with `routes` routes; every call counts as one more read, so counters move. */
export function farmStatsDocument (routes: number): StatsDocument {
  const n = ++reads
  return {
    schema: STATS_SCHEMA_V1,
    service: { name: 'target-farm', version: '1.0.0', profile: 'bench' },
    pid: process.pid,
    startTimeSeconds,
    http: {
      inFlight: 1,
      routes: Array.from({ length: routes }, (_, i) => ({
        route: `/api/r${i}`,
        method: 'GET',
        statusClass: '2xx' as const,
        durationSeconds: histogram(n * 10 + i)
      }))
    },
    caches: { items: { hits: n * 9, misses: n, sets: n, evictions: 0, entries: 100, bytes: 20_000, maxEntries: 10_000, maxBytes: 16_777_216 } },
    dbPools: { main: { max: 8, total: 2, idle: 2, waiting: 0, acquireSeconds: histogram(n), acquireTimeouts: 0, errors: 0 } },
    httpClients: { upstream: { connections: 2, free: 2, pending: 0, running: 0, requests: n, errors: 0, durationSeconds: histogram(n) } }
  }
}
