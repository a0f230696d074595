/**
 * Turns an `outrigger.stats/v1` document into `app_*` metric families. The stats source fetches the
 * document; this module only validates and converts it, so it is pure and cheap to test.
 *
 * Counters are passed through as the application reports them. A counter that goes backwards between
 * two scrapes (the application restarted) is not corrected here: Prometheus treats any drop as a
 * counter reset, which is exactly what a restart is, and `rate()` handles it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ErrorObject } from 'ajv/dist/2020.js'
import schema from '../../contract/outrigger.stats.v1.schema.json' with { type: 'json' }
import { STATS_SCHEMA_V1 } from '../../contract/stats-v1.ts'
import type { StatsDocument, StatsHistogram } from '../../contract/stats-v1.ts'
import type { CollectResult, HistogramSample, Labels, MetricFamily, ScalarSample } from '../types.ts'

/** A metric's name, type and help text; the help states the unit. */
export interface MetricDefinition {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly help: string
}

/**
 * Every metric the stats contract yields, in the order they are emitted. Each sample carries the
 * `target` label plus the labels named in the help text.
 */
export const STATS_METRICS = {
  info: { name: 'app_info', type: 'gauge', help: 'Identity of the application (labels service, version, profile); always 1.' },
  startTime: { name: 'app_start_time_seconds', type: 'gauge', help: 'Start time of the application process, in seconds since the Unix epoch.' },
  pid: { name: 'app_pid', type: 'gauge', help: 'Process id the application reports for itself.' },
  httpRequests: { name: 'app_http_requests_total', type: 'counter', help: 'HTTP requests served, by route template, method and status class.' },
  httpRequestDuration: { name: 'app_http_request_duration_seconds', type: 'histogram', help: 'Time to serve an HTTP request, in seconds, by route template, method and status class.' },
  httpInFlight: { name: 'app_http_requests_in_flight', type: 'gauge', help: 'HTTP requests being served now.' },
  cacheHits: { name: 'app_cache_hits_total', type: 'counter', help: 'Cache lookups that found an entry, by cache.' },
  cacheMisses: { name: 'app_cache_misses_total', type: 'counter', help: 'Cache lookups that found no entry, by cache.' },
  cacheSets: { name: 'app_cache_sets_total', type: 'counter', help: 'Entries written to the cache, by cache.' },
  cacheEvictions: { name: 'app_cache_evictions_total', type: 'counter', help: 'Entries the cache evicted to stay within its capacity, by cache.' },
  cacheEntries: { name: 'app_cache_entries', type: 'gauge', help: 'Entries held by the cache now, by cache.' },
  cacheBytes: { name: 'app_cache_bytes', type: 'gauge', help: 'Size of the entries held by the cache now, in bytes, by cache.' },
  cacheMaxEntries: { name: 'app_cache_max_entries', type: 'gauge', help: 'Most entries the cache holds, by cache.' },
  cacheMaxBytes: { name: 'app_cache_max_bytes', type: 'gauge', help: 'Most bytes the cache holds (0 when unbounded by size), in bytes, by cache.' },
  poolMax: { name: 'app_db_pool_connections_max', type: 'gauge', help: 'Most connections the database pool opens, by pool.' },
  poolConnections: { name: 'app_db_pool_connections', type: 'gauge', help: 'Connections the database pool holds open now (idle and in use), by pool.' },
  poolIdle: { name: 'app_db_pool_connections_idle', type: 'gauge', help: 'Open database connections not in use now, by pool.' },
  poolWaiting: { name: 'app_db_pool_waiting_clients', type: 'gauge', help: 'Callers waiting for a database connection now, by pool.' },
  poolAcquireDuration: { name: 'app_db_pool_acquire_duration_seconds', type: 'histogram', help: 'Time from asking the pool for a connection to getting one, in seconds, by pool.' },
  poolAcquireTimeouts: { name: 'app_db_pool_acquire_timeouts_total', type: 'counter', help: 'Connection acquires that gave up after the acquire timeout, by pool.' },
  poolErrors: { name: 'app_db_pool_errors_total', type: 'counter', help: 'Connection and query errors reported by the database pool, by pool.' },
  clientConnections: { name: 'app_http_client_connections', type: 'gauge', help: 'Connections the outbound HTTP client holds open now, by client.' },
  clientFree: { name: 'app_http_client_connections_free', type: 'gauge', help: 'Open outbound HTTP connections with no request on them, by client.' },
  clientPending: { name: 'app_http_client_requests_pending', type: 'gauge', help: 'Outbound HTTP requests queued for a connection now, by client.' },
  clientRunning: { name: 'app_http_client_requests_running', type: 'gauge', help: 'Outbound HTTP requests on the wire now, by client.' },
  clientRequests: { name: 'app_http_client_requests_total', type: 'counter', help: 'Outbound HTTP requests completed with any outcome, by client.' },
  clientErrors: { name: 'app_http_client_errors_total', type: 'counter', help: 'Outbound HTTP requests that failed (connection errors, timeouts, 5xx answers), by client.' },
  clientRequestDuration: { name: 'app_http_client_request_duration_seconds', type: 'histogram', help: 'Time from sending an outbound HTTP request to the end of its response, in seconds, by client.' }
} as const satisfies Record<string, MetricDefinition>

type StatsMetricKey = keyof typeof STATS_METRICS

/** How many validation errors a `contract_mismatch` message lists before summarising the rest. */
const MAX_LISTED_ERRORS = 3

// Compiled once: validation runs on every scrape, compilation is the expensive part. `allErrors`
// lets the message list several problems so a producer can fix them in one go.
const validateDocument = new Ajv2020({ allErrors: true, strict: true }).compile<StatsDocument>(schema)

/** Histogram shape problem found after schema validation; `path` is a JSON pointer into the document. */
class HistogramMismatch {
  readonly path: string
  readonly message: string
  constructor (path: string, message: string) {
    this.path = path
    this.message = message
  }
}

/**
 * Validates `doc` against `outrigger.stats/v1` and converts it into metric families, every sample
 * labelled `target`. Families without samples are left out.
 *
 * Never throws for bad input: a document that is not v1, breaks the schema or carries a malformed
 * histogram (buckets not ascending by `le`, counts decreasing, last bucket above `count`) yields no
 * families and a `contract_mismatch` failure naming the JSON pointer of the first problems.
 */
export function contractToFamilies (doc: unknown, target: string): CollectResult {
  const version = schemaVersionOf(doc)
  if (version !== undefined && version !== STATS_SCHEMA_V1) {
    return mismatch(`unsupported schema ${JSON.stringify(version)}: this agent reads ${JSON.stringify(STATS_SCHEMA_V1)}`)
  }
  if (!validateDocument(doc)) {
    return mismatch(describeErrors(validateDocument.errors ?? []))
  }
  try {
    return { families: convert(doc, target) }
  } catch (error) {
    if (error instanceof HistogramMismatch) return mismatch(`${error.path} ${error.message}`)
    throw error
  }
}

function schemaVersionOf (doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined
  return (doc as { schema?: unknown }).schema
}

function mismatch (message: string): CollectResult {
  return { families: [], failure: { reason: 'contract_mismatch', message } }
}

function describeErrors (errors: ErrorObject[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map(describeError)
  const rest = errors.length - listed.length
  return listed.join('; ') + (rest > 0 ? `; and ${rest} more` : '')
}

function describeError (error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath
  const params = error.params as Record<string, unknown>
  // ajv's messages leave out the offending key for these two; a producer needs it to fix the document.
  const detail = error.keyword === 'additionalProperties'
    ? ` (${JSON.stringify(params.additionalProperty)})`
    : error.keyword === 'propertyNames' && params.propertyName !== undefined
      ? ` (${JSON.stringify(params.propertyName)})`
      : ''
  return `${where} ${error.message ?? error.keyword}${detail}`
}

/** Collects samples per metric and emits, in {@link STATS_METRICS} order, only the non-empty ones. */
class FamilyAccumulator {
  readonly #scalars = new Map<StatsMetricKey, ScalarSample[]>()
  readonly #histograms = new Map<StatsMetricKey, HistogramSample[]>()

  scalar (key: StatsMetricKey, labels: Labels, value: number): void {
    const samples = this.#scalars.get(key) ?? []
    samples.push({ labels, value })
    this.#scalars.set(key, samples)
  }

  histogram (key: StatsMetricKey, labels: Labels, histogram: StatsHistogram, path: string): void {
    const samples = this.#histograms.get(key) ?? []
    samples.push(toHistogramSample(STATS_METRICS[key].name, labels, histogram, path))
    this.#histograms.set(key, samples)
  }

  families (): MetricFamily[] {
    const families: MetricFamily[] = []
    for (const key of Object.keys(STATS_METRICS) as StatsMetricKey[]) {
      const { name, help, type } = STATS_METRICS[key]
      if (type === 'histogram') {
        const samples = this.#histograms.get(key)
        if (samples !== undefined) families.push({ name, help, type, samples })
      } else {
        const samples = this.#scalars.get(key)
        if (samples !== undefined) families.push({ name, help, type, samples })
      }
    }
    return families
  }
}

function convert (doc: StatsDocument, target: string): MetricFamily[] {
  const out = new FamilyAccumulator()
  const base = { target }

  const info: Record<string, string> = { target, service: doc.service.name, version: doc.service.version }
  if (doc.service.profile !== undefined) info.profile = doc.service.profile
  out.scalar('info', info, 1)
  out.scalar('startTime', base, doc.startTimeSeconds)
  out.scalar('pid', base, doc.pid)

  out.scalar('httpInFlight', base, doc.http.inFlight)
  doc.http.routes.forEach((route, index) => {
    const labels = { target, route: route.route, method: route.method, status_class: route.statusClass }
    out.scalar('httpRequests', labels, route.durationSeconds.count)
    out.histogram('httpRequestDuration', labels, route.durationSeconds, `/http/routes/${index}/durationSeconds`)
  })

  for (const [name, cache] of Object.entries(doc.caches)) {
    const labels = { target, cache: name }
    out.scalar('cacheHits', labels, cache.hits)
    out.scalar('cacheMisses', labels, cache.misses)
    out.scalar('cacheSets', labels, cache.sets)
    out.scalar('cacheEvictions', labels, cache.evictions)
    out.scalar('cacheEntries', labels, cache.entries)
    out.scalar('cacheBytes', labels, cache.bytes)
    out.scalar('cacheMaxEntries', labels, cache.maxEntries)
    out.scalar('cacheMaxBytes', labels, cache.maxBytes)
  }

  for (const [name, pool] of Object.entries(doc.dbPools)) {
    const labels = { target, pool: name }
    out.scalar('poolMax', labels, pool.max)
    out.scalar('poolConnections', labels, pool.total)
    out.scalar('poolIdle', labels, pool.idle)
    out.scalar('poolWaiting', labels, pool.waiting)
    out.histogram('poolAcquireDuration', labels, pool.acquireSeconds, `/dbPools/${pointerToken(name)}/acquireSeconds`)
    out.scalar('poolAcquireTimeouts', labels, pool.acquireTimeouts)
    out.scalar('poolErrors', labels, pool.errors)
  }

  for (const [name, client] of Object.entries(doc.httpClients)) {
    const labels = { target, client: name }
    out.scalar('clientConnections', labels, client.connections)
    out.scalar('clientFree', labels, client.free)
    out.scalar('clientPending', labels, client.pending)
    out.scalar('clientRunning', labels, client.running)
    out.scalar('clientRequests', labels, client.requests)
    out.scalar('clientErrors', labels, client.errors)
    out.histogram('clientRequestDuration', labels, client.durationSeconds, `/httpClients/${pointerToken(name)}/durationSeconds`)
  }

  return out.families()
}

/**
 * Checks what the schema cannot express — buckets strictly ascending by `le`, cumulative counts never
 * decreasing and never above `count` — and copies the histogram so the sample owns its data.
 */
function toHistogramSample (metric: string, labels: Labels, histogram: StatsHistogram, path: string): HistogramSample {
  const buckets: Array<{ le: number, count: number }> = []
  let previous: { le: number, count: number } | undefined
  for (const [index, bucket] of histogram.buckets.entries()) {
    const where = `${path}/buckets/${index}`
    if (previous !== undefined && bucket.le <= previous.le) {
      throw new HistogramMismatch(where, `histogram ${metric}: bucket le ${bucket.le} is not above the previous le ${previous.le} (buckets must be ascending)`)
    }
    if (previous !== undefined && bucket.count < previous.count) {
      throw new HistogramMismatch(where, `histogram ${metric}: bucket count ${bucket.count} at le ${bucket.le} is below ${previous.count} at le ${previous.le} (buckets must be cumulative)`)
    }
    buckets.push({ le: bucket.le, count: bucket.count })
    previous = bucket
  }
  if (previous !== undefined && previous.count > histogram.count) {
    throw new HistogramMismatch(`${path}/count`, `histogram ${metric}: count ${histogram.count} is below the last bucket's count ${previous.count} at le ${previous.le}`)
  }
  return { labels, buckets, sum: histogram.sum, count: histogram.count }
}

/** Escapes a property name for a JSON pointer (RFC 6901), as ajv's `instancePath` does. */
function pointerToken (name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1')
}
