/**
 * HTTP load with autocannon, in this process: a fixed number of keep-alive connections, each
 * sending its next request as soon as the previous answer arrives, for a fixed time. Latency is recorded here in microseconds from autocannon's
 * per-response timings, because its own histogram keeps whole milliseconds only.
 */
import { createHistogram } from 'node:perf_hooks'
import autocannon from 'autocannon'

/** One request to send. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT'
  /** Path and query, e.g. `/api/items/42`. */
  path: string
  /** JSON body, sent with `content-type: application/json`. */
  json?: unknown
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:8000`. */
  origin: string
  /** Concurrent connections. */
  connections: number
  /** How long to send, in seconds. */
  durationSeconds: number
  /** Called for every request; defaults to `GET /`. */
  next?: () => LoadRequest
  /** A request without an answer after this long counts as an error, in seconds; default 10. */
  timeoutSeconds?: number
}

/** What a load run measured. */
export interface LoadResult {
  /** 2xx answers per second over the run. */
  requestsPerSecond: number
  /** 2xx answers. */
  ok: number
  /** Answers with any other status. */
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  timeouts: number
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMeanMs: number
  durationSeconds: number
}

/** Sends load as {@link LoadOptions} say and resolves with what it measured. */
export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  const latencyMicros = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 })
  const next = options.next ?? ((): LoadRequest => ({ method: 'GET', path: '/' }))
  let finished!: (result: autocannon.Result) => void
  let failed!: (error: unknown) => void
  const done = new Promise<autocannon.Result>((resolve, reject) => { finished = resolve; failed = reject })
  const instance = autocannon({
    url: options.origin,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: options.timeoutSeconds ?? 10,
    // autocannon checks for the end of a run at each sample; every 100 ms makes short runs end on time.
    sampleInt: 100,
    requests: [{
      setupRequest: (request) => {
        const spec = next()
        request.method = spec.method
        request.path = spec.path
        if (spec.json === undefined) {
          request.body = undefined
          request.headers = {}
        } else {
          request.body = JSON.stringify(spec.json)
          request.headers = { 'content-type': 'application/json' }
        }
        return request
      }
    }]
  }, (error: unknown, result) => { if (error === null || error === undefined) finished(result); else failed(error) })
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencyMicros.record(Math.max(1, Math.round(responseTimeMs * 1000)))
  })
  const result = await done
  const ok = result['2xx']
  const count = latencyMicros.count
  return {
    requestsPerSecond: result.duration > 0 ? ok / result.duration : 0,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: count === 0 ? 0 : latencyMicros.percentile(50) / 1000,
    latencyP99Ms: count === 0 ? 0 : latencyMicros.percentile(99) / 1000,
    latencyMeanMs: count === 0 ? 0 : latencyMicros.mean / 1000,
    durationSeconds: result.duration
  }
}
