/**
 * The `outrigger.stats/v1` contract: the JSON document an application serves so the agent can turn
 * its own figures into `app_*` metrics. The JSON Schema beside this file is the normative version;
 * these types mirror it for TypeScript producers (the demo app) and the consumer (the agent).
 *
 * Rules every producer keeps:
 * - counters (`hits`, `requests`, `errors`, …) are cumulative since the process started and never
 *   go down while it lives; a restart is seen as a drop and treated as a reset by consumers;
 * - histograms are cumulative buckets in ascending `le` order, in seconds; the `+Inf` bucket is
 *   implied by `count`;
 * - names (cache, pool and client names, route templates) come from small fixed sets — never ids.
 */

/** The value of the `schema` field; consumers refuse any other. */
export const STATS_SCHEMA_V1 = 'outrigger.stats/v1'

/** A cumulative histogram in seconds. */
export interface StatsHistogram {
  /** Cumulative counts of observations less than or equal to `le`, ascending `le`, no `+Inf`. */
  buckets: Array<{ le: number, count: number }>
  /** Sum of all observations, in seconds. */
  sum: number
  /** Number of observations (the implied `+Inf` bucket). */
  count: number
}

/** Requests served for one route template, method and status class. */
export interface StatsRoute {
  /** Route template such as `/api/items/:id`, never a concrete URL. */
  route: string
  method: string
  statusClass: '1xx' | '2xx' | '3xx' | '4xx' | '5xx'
  /** Request duration; `count` is the number of requests. */
  durationSeconds: StatsHistogram
}

export interface StatsCache {
  hits: number
  misses: number
  sets: number
  evictions: number
  /** Entries held now. */
  entries: number
  /** Bytes held now, as the cache sizes its entries. */
  bytes: number
  /** Most entries the cache holds. */
  maxEntries: number
  /** Most bytes the cache holds (0 when unbounded by size). */
  maxBytes: number
}

export interface StatsDbPool {
  /** Most connections the pool opens. */
  max: number
  /** Connections open now (idle and in use). */
  total: number
  /** Open connections not in use. */
  idle: number
  /** Callers waiting for a connection. */
  waiting: number
  /** Time from asking for a connection to getting one. */
  acquireSeconds: StatsHistogram
  /** Acquires that gave up after the acquire timeout. */
  acquireTimeouts: number
  /** Connection and query errors reported by the pool. */
  errors: number
}

export interface StatsHttpClient {
  /** Connections open now. */
  connections: number
  /** Open connections with no request on them. */
  free: number
  /** Requests queued for a connection. */
  pending: number
  /** Requests on the wire now. */
  running: number
  /** Requests completed (any outcome). */
  requests: number
  /** Requests that failed: connection errors, timeouts and 5xx answers. */
  errors: number
  /** Time from sending a request to the end of its response. */
  durationSeconds: StatsHistogram
}

/** The whole `outrigger.stats/v1` document. */
export interface StatsDocument {
  schema: typeof STATS_SCHEMA_V1
  service: {
    name: string
    version: string
    /** A free-form configuration name, such as the demo app's `optimized` or `baseline`. */
    profile?: string
  }
  /** The producing process's pid, so an agent can cross-check its process selection. */
  pid: number
  /** Process start, seconds since the Unix epoch. */
  startTimeSeconds: number
  http: {
    inFlight: number
    routes: StatsRoute[]
  }
  caches: Record<string, StatsCache>
  dbPools: Record<string, StatsDbPool>
  httpClients: Record<string, StatsHttpClient>
}
