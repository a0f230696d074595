/**
 * Light, steady traffic against the demo app, so the dashboards have requests to show from the
 * first minute: reads by id (most hit the cache), searches, an occasional update (which
 * invalidates a cached item) and a call through the upstream. The compose stack runs it as the
 * `load` service; the dashboard integration test calls {@link runLightLoad} directly.
 *
 * Usage: `node compose/load/light-load.ts` with `TARGET_URL` (default http://127.0.0.1:8000),
 * `REQUESTS_PER_SECOND` (default 5) and `ITEM_IDS` (ids drawn from 1..N, default 500).
 */

/** Options of {@link runLightLoad}. */
export interface LightLoadOptions {
  /** The demo app's base URL, without a trailing slash. */
  readonly baseUrl: string
  /** Stops the load; the promise resolves once the request in flight has ended. */
  readonly signal: AbortSignal
  /** Requests started per second; default 5. One at a time, so a slow app gets fewer. */
  readonly requestsPerSecond?: number
  /** Item ids are drawn from 1 to this; default 500. */
  readonly itemIds?: number
  /** Deadline of one request, in milliseconds; default 5,000. */
  readonly timeoutMs?: number
}

/** What {@link runLightLoad} did, by outcome. */
export interface LightLoadResult {
  requests: number
  /** Answers with a 5xx status. */
  serverErrors: number
  /** Requests that got no answer (refused, reset, timed out). */
  failures: number
}

type Step = (base: string, id: number) => { path: string, init?: RequestInit }

// Weighted: a read-mostly API with a few writes, as a catalogue sees.
const STEPS: readonly Step[] = [
  (base, id) => ({ path: `${base}/api/items/${id}` }),
  (base, id) => ({ path: `${base}/api/items/${id}` }),
  (base, id) => ({ path: `${base}/api/items/${id}` }),
  (base, id) => ({ path: `${base}/api/items/${id}` }),
  (base) => ({ path: `${base}/api/items?limit=10&offset=${Math.floor(Math.random() * 50)}` }),
  (base) => ({ path: `${base}/api/upstream/quote` }),
  (base, id) => ({
    path: `${base}/api/items/${id}`,
    init: { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stock: Math.floor(Math.random() * 1000) }) }
  })
]

/**
 * Sends requests until `signal` aborts, then resolves with the counts. Never rejects for a failed
 * request: an outage is what a load generator must ride out.
 */
export async function runLightLoad (options: LightLoadOptions): Promise<LightLoadResult> {
  const { baseUrl, signal } = options
  const periodMs = 1000 / (options.requestsPerSecond ?? 5)
  const itemIds = options.itemIds ?? 500
  const timeoutMs = options.timeoutMs ?? 5000
  const result: LightLoadResult = { requests: 0, serverErrors: 0, failures: 0 }
  let next = Date.now()
  while (!signal.aborted) {
    const step = STEPS[result.requests % STEPS.length] as Step
    const { path, init } = step(baseUrl, 1 + Math.floor(Math.random() * itemIds))
    result.requests++
    try {
      const response = await fetch(path, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) })
      // The body is not needed: cancelling it frees the connection without reading it.
      await response.body?.cancel()
      if (response.status >= 500) result.serverErrors++
    } catch {
      if (!signal.aborted) result.failures++
    }
    next += periodMs
    const wait = next - Date.now()
    if (wait > 0) await pause(wait, signal)
    else next = Date.now()
  }
  return result
}

/** Resolves after `ms` or as soon as `signal` aborts; the timer never holds the process open. */
async function pause (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    timer.unref()
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

if (import.meta.main) {
  const stop = new AbortController()
  process.once('SIGTERM', () => { stop.abort() })
  process.once('SIGINT', () => { stop.abort() })
  const rate = Number(process.env.REQUESTS_PER_SECOND ?? '5')
  const ids = Number(process.env.ITEM_IDS ?? '500')
  const baseUrl = (process.env.TARGET_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '')
  if (!(rate > 0) || !(ids >= 1)) {
    console.error(`light-load: REQUESTS_PER_SECOND must be above 0 and ITEM_IDS at least 1, got ${String(process.env.REQUESTS_PER_SECOND)} and ${String(process.env.ITEM_IDS)}`)
    process.exit(2)
  }
  process.stdout.write(`${JSON.stringify({ msg: 'light load started', baseUrl, requestsPerSecond: rate })}\n`)
  // The timer in `pause` is unref'd; this keeps the process alive until a stop signal.
  const keepAlive = setInterval(() => {}, 60_000)
  const result = await runLightLoad({ baseUrl, signal: stop.signal, requestsPerSecond: rate, itemIds: ids })
  clearInterval(keepAlive)
  process.stdout.write(`${JSON.stringify({ msg: 'light load stopped', ...result })}\n`)
}
