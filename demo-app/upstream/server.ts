/**
 * The upstream service the demo app calls through its pooled HTTP client: a tiny node:http server
 * whose answers take a configurable time, so benchmarks and tests can model a slow dependency.
 *
 * Routes: `GET /quote` answers JSON after the default latency, or after `?delay=ms` (0–60,000);
 * `?status=NNN` (200–599) makes it answer that status, to model a failing upstream;
 * `GET /health` answers at once. Anything else is a JSON 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Longest delay a request may ask for, in ms. */
export const MAX_UPSTREAM_DELAY_MS = 60_000

/** Options of {@link startUpstream}. */
export interface UpstreamOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Address to bind; default 127.0.0.1. */
  host?: string
  /** Delay before each `/quote` answer unless `?delay` says otherwise, in ms; default 0. */
  latencyMs?: number
}

/** A running upstream. */
export interface RunningUpstream {
  /** Base URL, such as `http://127.0.0.1:8081`. */
  url: string
  port: number
  /** Requests answered so far on `/quote`. */
  readonly requests: number
  /** TCP connections accepted so far (shows whether a client reuses connections). */
  readonly connections: number
  /** `/quote` requests waiting out their delay now. */
  readonly waiting: number
  /** Stops listening and drops open connections, including delayed answers. Safe to call twice. */
  close (): Promise<void>
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function intParam (url: URL, name: string, min: number, max: number): number | undefined | Error {
  const raw = url.searchParams.get(name)
  if (raw === null) return undefined
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!(value >= min && value <= max)) return new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  return value
}

/**
 * Starts the upstream service.
 * @returns once it listens; rejects if the port cannot be bound.
 */
export async function startUpstream (options: UpstreamOptions = {}): Promise<RunningUpstream> {
  const defaultLatency = options.latencyMs ?? 0
  let requests = 0
  let connections = 0
  const timers = new Set<NodeJS.Timeout>()

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://upstream')
    if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0') {
      // No route reads a body. Closing stops the client at once; left unread, Node would drain it.
      res.setHeader('connection', 'close')
      return sendJson(res, 413, { error: 'payload_too_large', message: 'the upstream takes no request body' })
    }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method ?? ''} is not allowed` })
    if (url.pathname === '/health') return sendJson(res, 200, { status: 'ok' })
    if (url.pathname !== '/quote') return sendJson(res, 404, { error: 'not_found', message: `no route ${url.pathname}` })

    const delay = intParam(url, 'delay', 0, MAX_UPSTREAM_DELAY_MS)
    const status = intParam(url, 'status', 200, 599)
    for (const value of [delay, status]) {
      if (value instanceof Error) return sendJson(res, 400, { error: 'bad_request', message: value.message })
    }
    const delayMs = (delay as number | undefined) ?? defaultLatency
    const statusCode = (status as number | undefined) ?? 200
    const answer = (): void => {
      requests++
      sendJson(res, statusCode, { service: 'upstream', delayMs, status: statusCode, quote: Math.round(Math.random() * 10_000) / 100, at: new Date().toISOString() })
    }
    if (delayMs === 0) return answer()
    const timer = setTimeout(() => {
      timers.delete(timer)
      answer()
    }, delayMs)
    // The open server keeps the process alive; the timer must not keep a closed one alive.
    timer.unref()
    timers.add(timer)
    res.on('close', () => {
      clearTimeout(timer)
      timers.delete(timer)
    })
  }

  const server = createServer(handle)
  server.on('connection', () => { connections++ })
  // Idle keep-alive sockets stay open long enough for a client pool with a 30 s idle timeout to reuse them.
  server.keepAliveTimeout = 65_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port, address } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address

  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    port,
    get requests () { return requests },
    get connections () { return connections },
    get waiting () { return timers.size },
    close () {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    }
  }
}
