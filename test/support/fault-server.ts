/**
 * A hostile HTTP (and so TCP) server for fault tests: one port whose behaviour is switched at run
 * time between a healthy `outrigger.stats/v1` document and every way a target can misbehave —
 * refusing connections, hanging, trickling, failing, lying about its shape, flooding, sending
 * bytes that are not UTF-8, redirecting forever, or reporting counters that are NaN, infinite,
 * negative or going backwards.
 *
 * The same server answers every path, so one instance can stand behind a stats source, an HTTP
 * probe and a TCP probe at once. It counts what it did (requests, held requests, bytes written,
 * connections cut by the client) so tests can assert on the agent's behaviour from the outside.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { StatsDocument } from '../../contract/stats-v1.ts'

/** How the server answers. */
export type FaultMode =
  /** A valid `outrigger.stats/v1` document whose counters grow by one per answer. */
  | 'healthy'
  /** Nothing listens on the port: connections are refused. */
  | 'refuse'
  /** Accepts and reads the request, never answers (the socket stays open until the client gives up). */
  | 'hang'
  /** Sends a 200 head, then one byte every {@link TRICKLE_INTERVAL_MS}, never ending (slowloris). */
  | 'trickle'
  /** Answers 500 with a JSON error. */
  | 'status-500'
  /** A truncated JSON document. */
  | 'malformed-json'
  /** Valid JSON that is not the contract (an array of strings). */
  | 'wrong-shape'
  /** {@link HUGE_BODY_BYTES} of JSON-looking bytes, chunked (no Content-Length to reject it by). */
  | 'huge-body'
  /** The healthy document with bytes that are not UTF-8 in the middle of it. */
  | 'invalid-utf8'
  /** A 302 to itself, forever. */
  | 'redirect-loop'
  /** The healthy document with a bare `NaN` where a counter goes (JavaScript, not JSON). */
  | 'nan'
  /** The healthy document with a bare `Infinity` where a counter goes (not JSON). */
  | 'infinity'
  /** The healthy document with `1e999` for a counter: valid JSON that parses to Infinity. */
  | 'overflow'
  /** The healthy document with the string `"NaN"` for a counter: valid JSON of the wrong type. */
  | 'nan-string'
  /** The healthy document with a negative counter. */
  | 'negative-counter'

/** Size of the `huge-body` answer: 50 MB. */
export const HUGE_BODY_BYTES = 50 * 1024 * 1024
/** Pause between bytes in `trickle` mode, in ms. */
export const TRICKLE_INTERVAL_MS = 50

/** A running fault server. */
export interface FaultServer {
  /** Base URL, `http://127.0.0.1:<port>`; answers every path. */
  readonly url: string
  /** `127.0.0.1:<port>`, for TCP probes. */
  readonly address: string
  readonly port: number
  /** The current mode. */
  readonly mode: FaultMode
  /** Requests received since start, whatever the mode. */
  readonly requests: number
  /** Requests held open now by `hang` and `trickle`. */
  readonly held: number
  /** Body bytes written in `huge-body` mode since start. */
  readonly hugeBytesWritten: number
  /** `huge-body` answers the client cut before the end. */
  readonly hugeCutEarly: number
  /** Switches the mode; resolves once the port listens again or has stopped listening. */
  setMode (mode: FaultMode): Promise<void>
  /**
   * Simulates an application restart: counters start again from zero (and grow from there), as
   * a restarted process reports them.
   */
  restart (): void
  /** The healthy document as the next answer would carry it. */
  document (): StatsDocument
  /** Resolves once at least `count` requests are held open by `hang` or `trickle`. */
  waitForHeld (count?: number): Promise<void>
  /** Stops listening and drops every connection. Safe to call twice. */
  close (): Promise<void>
}

/** Options of {@link startFaultServer}. */
export interface FaultServerOptions {
  /** The mode to start in; default `healthy`. */
  mode?: FaultMode
  /** Value the counters start from; default 100. */
  initialCount?: number
}

const COUNTER_MARK = '"hits":'

/** The healthy `outrigger.stats/v1` document with every counter at `count`. */
export function faultDocument (count: number, pid = 4242): StatsDocument {
  const histogram = { buckets: [{ le: 0.05, count: Math.floor(count / 2) }, { le: 0.5, count }], sum: count * 0.01, count }
  return {
    schema: 'outrigger.stats/v1',
    service: { name: 'fault-server', version: '1.0.0' },
    pid,
    startTimeSeconds: 1_750_000_000,
    http: { inFlight: 1, routes: [{ route: '/api/things/:id', method: 'GET', statusClass: '2xx', durationSeconds: histogram }] },
    caches: { items: { hits: count, misses: 1, sets: 1, evictions: 0, entries: 1, bytes: 10, maxEntries: 100, maxBytes: 0 } },
    dbPools: { main: { max: 4, total: 1, idle: 1, waiting: 0, acquireSeconds: histogram, acquireTimeouts: 0, errors: 0 } },
    httpClients: { upstream: { connections: 1, free: 1, pending: 0, running: 0, requests: count, errors: 0, durationSeconds: histogram } }
  }
}

/** The healthy document's text with the cache-hits counter replaced by `raw` (written as is). */
function withCounter (document: StatsDocument, raw: string): string {
  const text = JSON.stringify(document)
  const at = text.indexOf(COUNTER_MARK) + COUNTER_MARK.length
  const end = text.indexOf(',', at)
  return `${text.slice(0, at)}${raw}${text.slice(end)}`
}

/** Starts a fault server on a free loopback port. */
export async function startFaultServer (options: FaultServerOptions = {}): Promise<FaultServer> {
  let mode: FaultMode = options.mode ?? 'healthy'
  let count = options.initialCount ?? 100
  let requests = 0
  let hugeBytesWritten = 0
  let hugeCutEarly = 0
  const heldResponses = new Set<ServerResponse>()
  const heldWaiters: Array<{ count: number, resolve: () => void }> = []
  const timers = new Set<NodeJS.Timeout>()

  const hold = (res: ServerResponse): void => {
    heldResponses.add(res)
    res.once('close', () => heldResponses.delete(res))
    for (const waiter of [...heldWaiters]) {
      if (heldResponses.size >= waiter.count) {
        heldWaiters.splice(heldWaiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  }

  const json = (res: ServerResponse, status: number, body: string | Buffer): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    requests++
    req.resume()
    switch (mode) {
      case 'healthy':
      case 'refuse': // a request that raced the listener closing
        json(res, 200, JSON.stringify(faultDocument(count++)))
        return
      case 'hang':
        hold(res)
        return
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{')
        const timer = setInterval(() => { if (!res.destroyed) res.write(' ') }, TRICKLE_INTERVAL_MS)
        timer.unref()
        timers.add(timer)
        res.once('close', () => { clearInterval(timer); timers.delete(timer) })
        hold(res)
        return
      }
      case 'status-500':
        json(res, 500, '{"error":"internal","message":"the application failed"}')
        return
      case 'malformed-json':
        json(res, 200, JSON.stringify(faultDocument(count)).slice(0, 80))
        return
      case 'wrong-shape':
        json(res, 200, '["not","a","stats","document"]')
        return
      case 'huge-body':
        sendHuge(res)
        return
      case 'invalid-utf8': {
        const text = JSON.stringify({ ...faultDocument(count), service: { name: 'SPLIT', version: '1' } })
        const [before, after] = text.split('SPLIT') as [string, string]
        json(res, 200, Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xa0, 0xa1]), Buffer.from(after)]))
        return
      }
      case 'redirect-loop':
        res.writeHead(302, { location: req.url ?? '/' })
        res.end()
        return
      case 'nan':
        json(res, 200, withCounter(faultDocument(count), 'NaN'))
        return
      case 'infinity':
        json(res, 200, withCounter(faultDocument(count), 'Infinity'))
        return
      case 'overflow':
        json(res, 200, withCounter(faultDocument(count), '1e999'))
        return
      case 'nan-string':
        json(res, 200, withCounter(faultDocument(count), '"NaN"'))
        return
      case 'negative-counter':
        json(res, 200, withCounter(faultDocument(count), '-5'))
    }
  }

  /** Writes {@link HUGE_BODY_BYTES}, honouring backpressure, so only the client closing stops it early. */
  const sendHuge = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    chunk[0] = 0x5b // '[' so the first bytes look like JSON
    let sent = 0
    res.once('close', () => { if (sent < HUGE_BODY_BYTES) hugeCutEarly++ })
    const pump = (): void => {
      while (!res.destroyed && sent < HUGE_BODY_BYTES) {
        sent += chunk.length
        hugeBytesWritten += chunk.length
        if (!res.write(chunk)) {
          res.once('drain', pump)
          return
        }
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }

  let server: Server = createServer(handle)
  const listen = async (port: number): Promise<void> => {
    // A closed node:http server cannot listen again; `refuse` → other modes needs a new one.
    if (!server.listening && port !== 0) server = createServer(handle)
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
  }
  const stopListening = async (): Promise<void> => {
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
  }

  await listen(0)
  const port = (server.address() as AddressInfo).port
  if (mode === 'refuse') await stopListening()

  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    port,
    get mode () { return mode },
    get requests () { return requests },
    get held () { return heldResponses.size },
    get hugeBytesWritten () { return hugeBytesWritten },
    get hugeCutEarly () { return hugeCutEarly },
    async setMode (next) {
      const previous = mode
      mode = next
      if (previous === 'refuse' && next !== 'refuse') await listen(port)
      else if (previous !== 'refuse' && next === 'refuse') await stopListening()
    },
    restart () {
      count = 0
    },
    document: () => faultDocument(count),
    waitForHeld (wanted = 1) {
      if (heldResponses.size >= wanted) return Promise.resolve()
      return new Promise((resolve) => heldWaiters.push({ count: wanted, resolve }))
    },
    close () {
      closing ??= (async () => {
        for (const timer of timers) clearInterval(timer)
        timers.clear()
        if (mode !== 'refuse') await stopListening()
      })()
      return closing
    }
  }
}
