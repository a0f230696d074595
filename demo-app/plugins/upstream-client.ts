/**
 * The outbound HTTP client for the upstream service: one undici `Pool` for its origin, with the
 * report's keep-alive settings in the optimized profile and a new connection per request in the
 * baseline, a whole-request deadline and a response size limit in both, and stats for the contract.
 */
import fp from 'fastify-plugin'
import { Pool } from 'undici'
import type { StatsHttpClient } from '../../contract/stats-v1.ts'
import type { UpstreamConfig } from '../config.ts'
import { DemoAppError } from '../errors.ts'
import { Histogram, secondsSince } from '../histogram.ts'

/** A successful upstream answer. */
export interface UpstreamAnswer {
  statusCode: number
  /** The parsed JSON body. */
  body: unknown
  /** Time from sending the request to the end of the response, in seconds. */
  durationSeconds: number
}

/** undici codes that mean the deadline passed rather than the upstream failing outright. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * A pooled client for one upstream origin. `getJson` never throws anything but a
 * {@link DemoAppError}: `DEMO_ERR_UPSTREAM_TIMEOUT` (504) or `DEMO_ERR_UPSTREAM_FAILED` (502).
 */
export class UpstreamClient {
  readonly #config: UpstreamConfig
  readonly #pool: Pool
  readonly #basePath: string
  readonly #durationSeconds = new Histogram()
  #requests = 0
  #errors = 0
  #closing: Promise<void> | undefined

  /** Creates the pool; connects nothing until the first request. */
  constructor (config: UpstreamConfig) {
    this.#config = config
    const url = new URL(config.url)
    this.#basePath = url.pathname.replace(/\/+$/, '')
    this.#pool = new Pool(url.origin, {
      connections: config.connections,
      // pipelining 0 closes each connection after its response: the baseline's "new connection per request".
      pipelining: config.reuseConnections ? 1 : 0,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      maxResponseSize: config.maxResponseBytes,
      connect: { keepAlive: true, keepAliveInitialDelay: config.tcpKeepAliveInitialDelayMs }
    })
  }

  /** The upstream's base URL, for messages and logs. */
  get url (): string {
    return this.#config.url
  }

  /**
   * GETs `path` (relative to the upstream URL) and parses the JSON answer.
   * @param signal aborts the request early (the caller went away); the upstream timeout applies anyway.
   * @throws DemoAppError 504 past the timeout; 502 on a refused or reset connection, a non-2xx
   *   answer, a body over the size limit or one that is not JSON.
   */
  async getJson (path: string, query: Record<string, string> = {}, signal?: AbortSignal): Promise<UpstreamAnswer> {
    if (this.#closing !== undefined) throw new DemoAppError('DEMO_ERR_SHUTTING_DOWN', 'the upstream client is closing')
    const deadline = AbortSignal.timeout(this.#config.timeoutMs)
    const search = new URLSearchParams(query).toString()
    const fullPath = `${this.#basePath}${path}${search === '' ? '' : `?${search}`}`
    const start = process.hrtime.bigint()
    let failed = true
    try {
      const response = await this.#pool.request({
        method: 'GET',
        path: fullPath,
        headers: { accept: 'application/json' },
        signal: signal === undefined ? deadline : AbortSignal.any([deadline, signal])
      })
      if (response.statusCode < 200 || response.statusCode > 299) {
        await response.body.dump()
        failed = response.statusCode >= 500
        throw new DemoAppError('DEMO_ERR_UPSTREAM_FAILED', `upstream ${this.#config.url} answered ${response.statusCode} to GET ${fullPath}`)
      }
      let body: unknown
      try {
        body = await response.body.json()
      } catch (error) {
        if ((error as { code?: string }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE' || deadline.aborted) throw error
        throw new DemoAppError('DEMO_ERR_UPSTREAM_FAILED', `upstream ${this.#config.url} sent a body that is not JSON for GET ${fullPath}`, { cause: error })
      }
      failed = false
      return { statusCode: response.statusCode, body, durationSeconds: secondsSince(start) }
    } catch (error) {
      throw this.#explain(error, deadline, fullPath)
    } finally {
      this.#requests++
      if (failed) this.#errors++
      this.#durationSeconds.observe(secondsSince(start))
    }
  }

  /** The client in the `outrigger.stats/v1` shape. */
  stats (): StatsHttpClient {
    const stats = this.#pool.stats
    return {
      connections: stats.connected,
      free: stats.free,
      // A pool's `pending` already includes its own queue (`queued`).
      pending: stats.pending,
      running: stats.running,
      requests: this.#requests,
      errors: this.#errors,
      durationSeconds: this.#durationSeconds.snapshot()
    }
  }

  /** Waits for requests in flight, then closes every connection. Safe to call twice. */
  close (): Promise<void> {
    this.#closing ??= this.#pool.close()
    return this.#closing
  }

  #explain (error: unknown, deadline: AbortSignal, path: string): DemoAppError {
    if (error instanceof DemoAppError) return error
    const code = (error as { code?: string } | null)?.code
    if (deadline.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new DemoAppError('DEMO_ERR_UPSTREAM_TIMEOUT', `upstream ${this.#config.url} did not answer GET ${path} within ${this.#config.timeoutMs} ms`, { cause: error })
    }
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return new DemoAppError('DEMO_ERR_UPSTREAM_FAILED', `upstream ${this.#config.url} sent more than ${this.#config.maxResponseBytes} bytes for GET ${path}`, { cause: error })
    }
    const e = error as { message?: string, errors?: Array<{ message?: string }> } | null
    const reason = e?.message || e?.errors?.[0]?.message || code || String(error)
    return new DemoAppError('DEMO_ERR_UPSTREAM_FAILED', `upstream ${this.#config.url} failed for GET ${path}: ${reason}`, { cause: error })
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The pooled client for the upstream service; see `plugins/upstream-client.ts`. */
    upstream: UpstreamClient
  }
}

/** Decorates `app.upstream` and closes its pool in `onClose`. */
export const upstreamClientPlugin = fp<UpstreamConfig>(async (app, config) => {
  const client = new UpstreamClient(config)
  app.decorate('upstream', client)
  app.addHook('onClose', async () => { await client.close() })
}, { name: 'upstream-client', fastify: '5.x' })
