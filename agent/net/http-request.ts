/**
 * The agent's one outbound HTTP request, used by the HTTP probe and the stats source.
 *
 * Built on `node:http`/`node:https` rather than undici. A probe has to time each phase of a fresh
 * connection (DNS, TCP connect, TLS handshake, server processing, body transfer) for that one
 * request. With `agent: false` Node gives every request a socket of its own whose `lookup`,
 * `connect` and `secureConnect` events mark the phase ends exactly, with no state shared between
 * concurrent probes. undici can time the connect through a custom `connect` function, but the
 * request-side phases come only from its process-wide diagnostics channels, which would have to be
 * matched back to the request; and its pooled dispatchers exist to reuse connections, which a probe
 * must not do (like blackbox_exporter, each run measures a new connection).
 *
 * The request never rejects: transport faults, deadlines and oversized bodies come back as an
 * {@link HttpFailureResult} carrying a bounded reason and whatever was measured before the fault.
 *
 * Inside a traced run each request of a redirect chain is a client span, child of the run's span,
 * whose W3C `traceparent` goes out with the request (so the application's trace continues the
 * probe's) and whose events mark the end of each phase.
 */
import http from 'node:http'
import https from 'node:https'
import type { IncomingHttpHeaders, IncomingMessage, ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { TLSSocket, DetailedPeerCertificate } from 'node:tls'
import { performance } from 'node:perf_hooks'
import type { SourceFailure } from '../types.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import type { OperationSpan } from '../tracing/run-span.ts'
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_RESEND_COUNT, ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL, spanUrl
} from '../tracing/span-attributes.ts'
import { errorText, networkFailureReason } from './network-error.ts'

/** How to verify the server's certificate on `https` URLs. */
export interface TlsOptions {
  /** Accept any certificate (self-signed, expired, wrong name). Default `false`. */
  insecureSkipVerify?: boolean
  /** PEM bundle trusted instead of the system roots. */
  ca?: string
}

/** One request as a probe or source asks for it. */
export interface HttpRequestOptions {
  /** Absolute `http:` or `https:` URL; userinfo in it is sent as basic auth and never logged. */
  url: string
  /** Default `GET`. No request body is ever sent. */
  method?: string
  headers?: Readonly<Record<string, string>>
  /** The run's deadline; when it fires the request is destroyed and the result is `timeout`. */
  signal: AbortSignal
  /** Most body bytes read; past it the request is destroyed and the result is `body_too_large`. */
  bodyLimitBytes: number
  tls?: TlsOptions
  /** Follow 301/302/303/307/308 answers. Default `true`. */
  followRedirects?: boolean
  /**
   * Most redirects followed (default 10). A response that would need one more ends the request
   * with reason `http_status`: the chain ended on a 3xx the caller did not ask to see.
   */
  maxRedirects?: number
}

/**
 * Time spent in each phase, in seconds, summed over every request of a redirect chain as
 * blackbox_exporter does. A phase that did not happen (DNS for an IP literal, TLS for `http:`,
 * anything after a fault) is 0.
 */
export interface HttpPhaseSeconds {
  /** Resolving the host name. */
  resolve: number
  /** TCP connect, after resolution. */
  connect: number
  /** TLS handshake, after connect. */
  tls: number
  /** From the request being sent to the response head arriving. */
  processing: number
  /** From the response head to the end of the body. */
  transfer: number
}

/** What the final `https` connection's certificates say. */
export interface HttpTlsInfo {
  /** Earliest `notAfter` across the peer's certificate chain, seconds since the Unix epoch. */
  earliestCertExpirySeconds: number
  /** Negotiated protocol such as `TLSv1.3`. */
  protocol: string
}

interface HttpExchange {
  /** The last URL requested (after redirects), userinfo removed. */
  url: string
  /** Redirects followed. */
  redirects: number
  phases: HttpPhaseSeconds
  /** Present when the last connection completed a TLS handshake. */
  tls?: HttpTlsInfo
}

/** A response read in full. Any status is a response, including 4xx and 5xx. */
export interface HttpResponseResult extends HttpExchange {
  ok: true
  status: number
  headers: IncomingHttpHeaders
  /** The whole body, at most `bodyLimitBytes`. Bytes as sent; decode with replacement if needed. */
  body: Buffer
}

/** A request that produced no complete response. */
export interface HttpFailureResult extends HttpExchange {
  ok: false
  failure: SourceFailure
  /** The status of the response head, when one arrived before the fault. */
  status?: number
}

/** The outcome of {@link httpRequest}: match on `ok`. */
export type HttpResult = HttpResponseResult | HttpFailureResult

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
/** Headers that carry credentials and must not follow a redirect to another origin (as Go and browsers do). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization'])

/** Default most redirects followed, matching blackbox_exporter and Go's client. */
export const DEFAULT_MAX_REDIRECTS = 10

/** Performs one request, following redirects; see {@link HttpRequestOptions}. Never rejects. */
export async function httpRequest (options: HttpRequestOptions): Promise<HttpResult> {
  const phases: HttpPhaseSeconds = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 }
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  let method = (options.method ?? 'GET').toUpperCase()
  let headers: Record<string, string> = { ...options.headers }
  let url: URL
  try {
    url = new URL(options.url)
  } catch (error) {
    return failed({ url: redactUrl(options.url), redirects: 0, phases }, 'network', `invalid URL ${redactUrl(options.url)}: ${errorText(error)}`)
  }
  const run = currentRunSpan()
  for (let redirects = 0; ; redirects++) {
    const span = run?.startChild(method, {
      kind: 'client',
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_FULL]: spanUrl(url.href),
        [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        [ATTR_SERVER_PORT]: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
        [ATTR_HTTP_REQUEST_RESEND_COUNT]: redirects > 0 ? redirects : undefined
      }
    })
    const outcome = await exchange(url, method, span === undefined ? headers : { ...headers, ...span.traceHeaders() }, options)
    if (span !== undefined) endExchangeSpan(span, outcome)
    addPhases(phases, outcome.phases)
    const base: HttpExchange = { url: redactUrl(url.href), redirects, phases }
    if (outcome.tls !== undefined) base.tls = outcome.tls
    if (!outcome.ok) {
      const result = failed(base, outcome.reason, `${method} ${base.url}: ${outcome.message}`)
      if (outcome.status !== undefined) result.status = outcome.status
      return result
    }
    const location = outcome.headers.location
    if (options.followRedirects === false || !REDIRECT_STATUSES.has(outcome.status) || location === undefined) {
      return { ...base, ok: true, status: outcome.status, headers: outcome.headers, body: outcome.body }
    }
    if (redirects >= maxRedirects) {
      const result = failed(base, 'http_status', `${method} ${base.url}: stopped after ${maxRedirects} redirects (status ${outcome.status})`)
      result.status = outcome.status
      return result
    }
    let next: URL
    try {
      next = new URL(location, url)
    } catch (error) {
      return failed(base, 'network', `${method} ${base.url}: invalid redirect location ${JSON.stringify(location)}: ${errorText(error)}`)
    }
    if (next.origin !== url.origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())))
    }
    // 303 always, and 301/302 after a non-GET, turn into GET as every browser and Go's client do.
    if (outcome.status === 303 || ((outcome.status === 301 || outcome.status === 302) && method !== 'GET' && method !== 'HEAD')) {
      method = 'GET'
    }
    url = next
  }
}

/** A URL for messages: userinfo (credentials) removed. */
export function redactUrl (raw: string): string {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    return url.href
  } catch {
    // Not a URL at all: keep nothing that could be a credential.
    return raw.replace(/\/\/[^/@]*@/, '//')
  }
}

function failed (base: HttpExchange, reason: SourceFailure['reason'], message: string): HttpFailureResult {
  return { ...base, ok: false, failure: { reason, message } }
}

function addPhases (into: HttpPhaseSeconds, add: HttpPhaseSeconds): void {
  into.resolve += add.resolve
  into.connect += add.connect
  into.tls += add.tls
  into.processing += add.processing
  into.transfer += add.transfer
}

type ExchangeOutcome =
  | { ok: true, phases: HttpPhaseSeconds, marks: Marks, tls?: HttpTlsInfo, status: number, headers: IncomingHttpHeaders, body: Buffer }
  | { ok: false, phases: HttpPhaseSeconds, marks: Marks, tls?: HttpTlsInfo, status?: number, reason: SourceFailure['reason'], message: string }

/** The events marking the end of each phase, with the {@link Marks} field that times them. */
const PHASE_EVENTS: ReadonlyArray<readonly [keyof Marks, string]> = [
  ['resolved', 'dns.resolved'],
  ['connected', 'tcp.connected'],
  ['secured', 'tls.established'],
  ['sent', 'request.sent'],
  ['firstByte', 'response.first_byte'],
  ['end', 'response.end']
]

/** Records the phases of one exchange on its span, its status or failure, and ends it. */
function endExchangeSpan (span: OperationSpan, outcome: ExchangeOutcome): void {
  const { marks } = outcome
  for (const [mark, name] of PHASE_EVENTS) {
    const at = marks[mark]
    if (at !== undefined) span.addEvent(name, undefined, performance.timeOrigin + at)
  }
  if (outcome.status !== undefined) span.setAttributes({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: outcome.status })
  if (!outcome.ok) {
    span.setAttributes({ [ATTR_ERROR_TYPE]: outcome.reason })
    span.fail(outcome.reason, outcome.message)
  } else if (outcome.status >= 400) {
    span.setAttributes({ [ATTR_ERROR_TYPE]: String(outcome.status) })
    span.fail('http_status', `status ${outcome.status}`)
  }
  // Ended now, on the SDK's own clock (the span's start is on it too); events carry the marks.
  span.end()
}

/** Marks, in `performance.now()` milliseconds, when each phase of one request ended. */
interface Marks {
  start: number
  resolved?: number
  connected?: number
  secured?: number
  sent?: number
  firstByte?: number
  end?: number
}

/** One request/response on a fresh connection, body read up to the limit. */
function exchange (url: URL, method: string, headers: Record<string, string>, options: HttpRequestOptions): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    const marks: Marks = { start: performance.now() }
    let tlsInfo: HttpTlsInfo | undefined
    let status: number | undefined
    let request: ClientRequest | undefined
    let settled = false

    const settle = (outcome: { ok: true, headers: IncomingHttpHeaders, body: Buffer } | { ok: false, reason: SourceFailure['reason'], message: string }): void => {
      if (settled) return
      settled = true
      options.signal.removeEventListener('abort', onAbort)
      // A fresh connection per request: nothing is kept for reuse, whatever the outcome.
      request?.destroy()
      const common = { phases: phasesOf(marks), marks, ...(tlsInfo === undefined ? {} : { tls: tlsInfo }) }
      if (outcome.ok) resolve({ ...common, ok: true, status: status ?? 0, headers: outcome.headers, body: outcome.body })
      else resolve({ ...common, ok: false, reason: outcome.reason, message: outcome.message, ...(status === undefined ? {} : { status }) })
    }
    const onAbort = (): void => {
      settle({ ok: false, reason: 'timeout', message: `deadline reached ${stageOf(marks)}` })
    }

    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      settle({ ok: false, reason: 'network', message: `unsupported protocol ${url.protocol}` })
      return
    }
    if (options.signal.aborted) {
      onAbort()
      return
    }
    options.signal.addEventListener('abort', onAbort, { once: true })

    const secure = url.protocol === 'https:'
    const requestOptions: https.RequestOptions = {
      method,
      headers,
      // A new agent per request and no keep-alive: the connection is measured and then closed.
      agent: false
    }
    if (secure) {
      requestOptions.rejectUnauthorized = options.tls?.insecureSkipVerify !== true
      if (options.tls?.ca !== undefined) requestOptions.ca = options.tls.ca
    }
    try {
      request = (secure ? https : http).request(url, requestOptions)
    } catch (error) {
      // Invalid header names or values from the configuration throw synchronously.
      settle({ ok: false, reason: 'network', message: errorText(error) })
      return
    }

    request.once('socket', (socket: Socket) => {
      socket.once('lookup', () => { marks.resolved = performance.now() })
      socket.once('connect', () => { marks.connected = performance.now() })
      if (secure) {
        socket.once('secureConnect', () => {
          marks.secured = performance.now()
          tlsInfo = tlsInfoOf(socket as TLSSocket)
        })
      }
    })
    // 'finish' fires when the request has been handed to the socket; on a connection still
    // handshaking that is earlier than the bytes leave, hence the max() in phasesOf().
    request.once('finish', () => { marks.sent = performance.now() })
    request.on('error', (error) => {
      settle({ ok: false, reason: networkFailureReason(error), message: errorText(error) })
    })
    request.once('response', (response: IncomingMessage) => {
      marks.firstByte = performance.now()
      status = response.statusCode ?? 0
      readBody(response, options.bodyLimitBytes, marks, settle)
    })
    request.end()
  })
}

function readBody (
  response: IncomingMessage,
  limit: number,
  marks: Marks,
  settle: (outcome: { ok: true, headers: IncomingHttpHeaders, body: Buffer } | { ok: false, reason: SourceFailure['reason'], message: string }) => void
): void {
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    settle({ ok: false, reason: 'body_too_large', message: `Content-Length ${declared} exceeds the body limit of ${limit} bytes` })
    return
  }
  const chunks: Buffer[] = []
  let received = 0
  let ended = false
  response.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (received > limit) {
      settle({ ok: false, reason: 'body_too_large', message: `body exceeds the limit of ${limit} bytes` })
      return
    }
    chunks.push(chunk)
  })
  response.once('end', () => {
    ended = true
    marks.end = performance.now()
    settle({ ok: true, headers: response.headers, body: Buffer.concat(chunks, received) })
  })
  response.on('error', (error) => {
    settle({ ok: false, reason: networkFailureReason(error), message: `reading the body: ${errorText(error)}` })
  })
  response.once('close', () => {
    if (!ended) settle({ ok: false, reason: 'reset', message: `connection closed after ${received} body bytes` })
  })
}

function phasesOf (marks: Marks): HttpPhaseSeconds {
  const seconds = (from: number | undefined, to: number | undefined): number =>
    from === undefined || to === undefined ? 0 : Math.max(0, (to - from) / 1000)
  const connectFrom = marks.resolved ?? marks.start
  const ready = marks.secured ?? marks.connected
  const sent = marks.sent === undefined ? ready : Math.max(marks.sent, ready ?? marks.sent)
  return {
    resolve: seconds(marks.start, marks.resolved),
    connect: seconds(connectFrom, marks.connected),
    tls: seconds(marks.connected, marks.secured),
    processing: seconds(sent, marks.firstByte),
    transfer: seconds(marks.firstByte, marks.end)
  }
}

/** Where a request stood when its deadline fired, for the failure message. */
function stageOf (marks: Marks): string {
  if (marks.firstByte !== undefined) return 'while reading the body'
  if (marks.connected !== undefined) return 'while waiting for the response'
  return 'while connecting'
}

function tlsInfoOf (socket: TLSSocket): HttpTlsInfo {
  let earliest = Number.POSITIVE_INFINITY
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  const seen = new Set<DetailedPeerCertificate>()
  // The chain ends at a self-issued certificate whose issuerCertificate is itself.
  while (cert !== undefined && cert.valid_to !== undefined && !seen.has(cert)) {
    seen.add(cert)
    const notAfter = Date.parse(cert.valid_to) / 1000
    if (Number.isFinite(notAfter)) earliest = Math.min(earliest, notAfter)
    cert = cert.issuerCertificate
  }
  return {
    earliestCertExpirySeconds: Number.isFinite(earliest) ? earliest : 0,
    protocol: socket.getProtocol() ?? 'unknown'
  }
}
