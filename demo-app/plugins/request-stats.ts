/**
 * Request metrics: in-flight requests and a latency histogram per route template, method and
 * status class. Labels come from closed sets only: the route template (never the URL), one
 * `unmatched` label for every 404 without a route, and a fixed list of methods.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { StatsRoute } from '../../contract/stats-v1.ts'
import { Histogram, secondsSince } from '../histogram.ts'

/** The route label of requests no route matched. */
export const UNMATCHED_ROUTE = 'unmatched'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/** Cumulative request counters of one app. */
export class RequestStats {
  readonly #series = new Map<string, { route: string, method: string, statusClass: StatsRoute['statusClass'], histogram: Histogram }>()
  readonly #started = new WeakMap<FastifyRequest, bigint>()
  #inFlight = 0
  #count = 0
  #errors = 0
  #sumSeconds = 0

  /** Marks the start of a request. */
  start (request: FastifyRequest): void {
    this.#started.set(request, process.hrtime.bigint())
    this.#inFlight++
  }

  /**
   * Records the end of a request: answered (`statusCode`) or aborted by the client (`undefined`,
   * which only lowers in-flight). A request is recorded once, whichever comes first.
   */
  finish (request: FastifyRequest, statusCode: number | undefined): void {
    const start = this.#started.get(request)
    if (start === undefined) return
    this.#started.delete(request)
    this.#inFlight--
    if (statusCode === undefined) return
    const seconds = secondsSince(start)
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE
    const method = METHODS.has(request.method) ? request.method : 'OTHER'
    const statusClass = STATUS_CLASSES[Math.min(4, Math.max(0, Math.floor(statusCode / 100) - 1))] ?? '5xx'
    const key = `${method} ${statusClass} ${route}`
    let series = this.#series.get(key)
    if (series === undefined) {
      series = { route, method, statusClass, histogram: new Histogram() }
      this.#series.set(key, series)
    }
    series.histogram.observe(seconds)
    this.#count++
    this.#sumSeconds += seconds
    if (statusCode >= 500) this.#errors++
  }

  /** Requests being served now. */
  get inFlight (): number {
    return this.#inFlight
  }

  /** Requests answered since start. */
  get count (): number {
    return this.#count
  }

  /** Requests answered with a 5xx since start. */
  get errors (): number {
    return this.#errors
  }

  /** Mean response time since start, in seconds; `null` before the first answer. */
  get averageSeconds (): number | null {
    return this.#count === 0 ? null : this.#sumSeconds / this.#count
  }

  /** Every series in the `outrigger.stats/v1` shape, in a stable order. */
  routes (): StatsRoute[] {
    return [...this.#series.values()]
      .sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method) || a.statusClass.localeCompare(b.statusClass))
      .map((s) => ({ route: s.route, method: s.method, statusClass: s.statusClass, durationSeconds: s.histogram.snapshot() }))
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Request counters of this app; see `plugins/request-stats.ts`. */
    requestStats: RequestStats
  }
}

/** Decorates `app.requestStats` and times every request of the app, routes registered later included. */
export const requestStatsPlugin: FastifyPluginAsync = fp(async (app) => {
  const stats = new RequestStats()
  app.decorate('requestStats', stats)
  app.addHook('onRequest', async (request) => { stats.start(request) })
  app.addHook('onResponse', async (request, reply) => { stats.finish(request, reply.statusCode) })
  app.addHook('onRequestAbort', async (request) => { stats.finish(request, undefined) })
}, { name: 'request-stats', fastify: '5.x' })
