/**
 * Many scrapers at once against one `/metrics`: each on a connection of its own, all started
 * together, every answer checked for completeness. The load test asserts on the checks; the
 * benchmark reports the latency and memory figures this also returns.
 */
import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'

/** Options of {@link scrapeConcurrently}. */
export interface ConcurrentScrapeOptions {
  /** Full URL of the metrics endpoint, such as `http://127.0.0.1:9465/metrics`. */
  url: string
  /** Scrapers started together; default 200. */
  concurrency?: number
  /** Rounds of `concurrency` scrapes, one after the other; default 1. */
  rounds?: number
  /** Request headers (such as `authorization`). */
  headers?: Record<string, string>
  /** Resident memory of the process serving `/metrics`, in bytes; sampled during the rounds when given. */
  memoryBytes?: () => number | Promise<number>
  /** Per-scrape deadline, in ms; default 30 s. A scrape past it counts as failed. */
  timeoutMs?: number
}

/** One scrape's outcome. */
export interface ScrapeOutcome {
  /** HTTP status, or 0 when the request failed. */
  status: number
  /** Time from sending the request to the end of the body, in ms. */
  latencyMs: number
  /** Body bytes received. */
  bytes: number
  /** Why the answer is not a complete exposition, or undefined when it is. */
  problem: string | undefined
}

/** What {@link scrapeConcurrently} measured. */
export interface ConcurrentScrapeReport {
  scrapes: ScrapeOutcome[]
  /** Scrapes that answered 200 with a complete body. */
  complete: number
  latencyMs: { p50: number, p95: number, p99: number, max: number }
  /** Memory samples taken before the first round and during the rounds, in bytes; undefined without `memoryBytes`. */
  memory: { beforeBytes: number, peakBytes: number } | undefined
}

/**
 * Runs `rounds` rounds of `concurrency` simultaneous scrapes of `url`. A body is complete when it
 * matches its Content-Length, ends in a newline, and every line is a comment or a sample.
 * Never rejects for a failed scrape: failures are in the report.
 */
export async function scrapeConcurrently (options: ConcurrentScrapeOptions): Promise<ConcurrentScrapeReport> {
  const concurrency = options.concurrency ?? 200
  const rounds = options.rounds ?? 1
  const scrapes: ScrapeOutcome[] = []
  let memory: { beforeBytes: number, peakBytes: number } | undefined
  let sampler: NodeJS.Timeout | undefined
  if (options.memoryBytes !== undefined) {
    const read = options.memoryBytes
    const before = await read()
    memory = { beforeBytes: before, peakBytes: before }
    const current = memory
    sampler = setInterval(() => {
      void Promise.resolve(read()).then((bytes) => { current.peakBytes = Math.max(current.peakBytes, bytes) }, () => {})
    }, 20)
    sampler.unref()
  }
  try {
    for (let round = 0; round < rounds; round++) {
      scrapes.push(...await Promise.all(Array.from({ length: concurrency }, () => scrapeOnce(options))))
    }
  } finally {
    clearInterval(sampler)
  }
  if (memory !== undefined && options.memoryBytes !== undefined) {
    memory.peakBytes = Math.max(memory.peakBytes, await options.memoryBytes())
  }
  const sorted = scrapes.map((scrape) => scrape.latencyMs).sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return {
    scrapes,
    complete: scrapes.filter((scrape) => scrape.status === 200 && scrape.problem === undefined).length,
    latencyMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? 0 },
    memory
  }
}

/** One scrape on a connection of its own. */
function scrapeOnce (options: ConcurrentScrapeOptions): Promise<ScrapeOutcome> {
  const started = performance.now()
  const client = options.url.startsWith('https:') ? https : http
  return new Promise((resolve) => {
    const done = (status: number, bytes: number, problem: string | undefined): void => {
      resolve({ status, latencyMs: performance.now() - started, bytes, problem })
    }
    const request = client.request(options.url, {
      headers: { ...options.headers, connection: 'close' },
      agent: false,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)
    }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (error) => done(response.statusCode ?? 0, 0, `body: ${error.message}`))
      response.on('end', () => {
        const body = Buffer.concat(chunks)
        done(response.statusCode ?? 0, body.length, exposition(body, response.headers['content-length']))
      })
    })
    request.on('error', (error) => done(0, 0, error.message))
    request.end()
  })
}

const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [^ ]+( [0-9]+)?$/

/** Why `body` is not a complete text exposition, or undefined. */
function exposition (body: Buffer, contentLength: string | undefined): string | undefined {
  if (contentLength !== undefined && Number(contentLength) !== body.length) return `${body.length} bytes, Content-Length ${contentLength}`
  const text = body.toString('utf8')
  if (!text.endsWith('\n')) return 'the body does not end in a newline'
  if (!text.includes('\noutrigger_build_info{')) return 'outrigger_build_info is missing'
  const bad = text.slice(0, -1).split('\n').find((line) => line !== '' && !line.startsWith('#') && !SAMPLE_LINE.test(line))
  return bad === undefined ? undefined : `not a sample line: ${bad.slice(0, 120)}`
}
