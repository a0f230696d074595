/**
 * The HTTP probe: requests a URL on a fresh connection and checks the status, and optionally the
 * body against a regular expression or a JSONPath value, reporting blackbox_exporter's metrics.
 */
import { performance } from 'node:perf_hooks'
import { isDeepStrictEqual } from 'node:util'
import { JSONPath } from 'jsonpath-plus'
import type { CollectResult, MetricFamily, Source, SourceFailure } from '../types.ts'
import { httpRequest, DEFAULT_MAX_REDIRECTS } from '../net/http-request.ts'
import type { HttpResult, TlsOptions } from '../net/http-request.ts'
import { dnsLookupFamily, gauge, outcomeFamilies, phaseGauge, probeLabels, regexFamily } from '../net/probe-families.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_FULL, spanUrl } from '../tracing/span-attributes.ts'

/** Status code of the final response; 0 when none arrived. */
export const PROBE_HTTP_STATUS_CODE = 'probe_http_status_code'
/** Seconds per phase: resolve, connect, tls, processing, transfer (summed over redirects). */
export const PROBE_HTTP_DURATION_SECONDS = 'probe_http_duration_seconds'
/** Body bytes of the final response. */
export const PROBE_HTTP_CONTENT_LENGTH = 'probe_http_content_length'
/** Redirects followed. */
export const PROBE_HTTP_REDIRECTS = 'probe_http_redirects'
/** 1 when the final URL is `https`. */
export const PROBE_HTTP_SSL = 'probe_http_ssl'
/** Earliest certificate `notAfter` in the final connection's chain, seconds since the epoch. */
export const PROBE_SSL_EARLIEST_CERT_EXPIRY = 'probe_ssl_earliest_cert_expiry'

/** An HTTP probe as the configuration declares it. */
export interface HttpProbeOptions {
  /** Name of the target; the `target` label. */
  target: string
  /** Name of the probe within the target; the `probe` label. */
  name: string
  /** Absolute `http:` or `https:` URL. */
  url: string
  /** Default `GET`. */
  method?: string
  /** Request headers. Default none. */
  headers?: Readonly<Record<string, string>>
  /** Statuses that count as success. Default any 2xx. */
  expectStatus?: readonly number[]
  /** The body (decoded as UTF-8, invalid bytes replaced) must match. */
  bodyRegex?: RegExp
  /**
   * The body must be JSON in which `path` (JSONPath) selects at least one value, and every value it
   * selects deep-equals `value`.
   */
  jsonEquals?: { path: string, value: unknown }
  /** Certificate checks for `https` URLs. */
  tls?: TlsOptions
  /** Follow redirects, at most 10. Default `true`. */
  followRedirects?: boolean
  /** Run period, seconds. */
  intervalSeconds: number
  /** Deadline of one run, seconds. */
  timeoutSeconds: number
  /** Most body bytes read; a larger body fails the probe with `body_too_large`. */
  bodyLimitBytes: number
}

/** Probes one URL per run; see {@link HttpProbeOptions}. Holds no connection between runs. */
export class HttpProbe implements Source {
  readonly id: string
  readonly target: string
  readonly kind = 'http' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  readonly #options: HttpProbeOptions

  constructor (options: HttpProbeOptions) {
    this.#options = options
    this.id = `${options.target}/http/${options.name}`
    this.target = options.target
    this.intervalSeconds = options.intervalSeconds
    this.timeoutSeconds = options.timeoutSeconds
  }

  /** Runs the probe once. Never rejects: a failed check is `probe_success 0` plus the failure. */
  async collect (signal: AbortSignal): Promise<CollectResult> {
    const options = this.#options
    const started = performance.now()
    const result = await httpRequest({
      url: options.url,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      signal,
      bodyLimitBytes: options.bodyLimitBytes,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      followRedirects: options.followRedirects ?? true,
      maxRedirects: DEFAULT_MAX_REDIRECTS
    })
    const check = this.#check(result)
    const durationSeconds = (performance.now() - started) / 1000
    currentRunSpan()?.setAttributes({
      [ATTR_HTTP_REQUEST_METHOD]: options.method ?? 'GET',
      [ATTR_URL_FULL]: spanUrl(options.url),
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: result.status
    })
    const families = this.#families(result, check, durationSeconds)
    return check.failure === undefined ? { families } : { families, failure: check.failure }
  }

  #check (result: HttpResult): { failure?: SourceFailure, regexFailed: boolean } {
    const options = this.#options
    if (!result.ok) return { failure: result.failure, regexFailed: false }
    const expected = options.expectStatus
    const statusOk = expected === undefined ? result.status >= 200 && result.status < 300 : expected.includes(result.status)
    if (!statusOk) {
      const wanted = expected === undefined ? '2xx' : expected.join(', ')
      return { failure: { reason: 'http_status', message: `${result.url}: status ${result.status}, expected ${wanted}` }, regexFailed: false }
    }
    if (options.bodyRegex !== undefined) {
      options.bodyRegex.lastIndex = 0
      if (!options.bodyRegex.test(result.body.toString('utf8'))) {
        return { failure: { reason: 'body_mismatch', message: `${result.url}: body does not match ${String(options.bodyRegex)}` }, regexFailed: true }
      }
    }
    if (options.jsonEquals !== undefined) {
      const failure = jsonEqualsFailure(result.url, result.body, options.jsonEquals)
      if (failure !== undefined) return { failure, regexFailed: false }
    }
    return { regexFailed: false }
  }

  #families (result: HttpResult, check: { failure?: SourceFailure, regexFailed: boolean }, durationSeconds: number): MetricFamily[] {
    const options = this.#options
    const labels = probeLabels(options.target, options.name)
    const phases = result.phases
    const families: MetricFamily[] = [
      ...outcomeFamilies(labels, check.failure === undefined, durationSeconds),
      gauge(PROBE_HTTP_STATUS_CODE, 'Status code of the final HTTP response, 0 when none arrived.', labels, result.status ?? 0),
      phaseGauge(PROBE_HTTP_DURATION_SECONDS, 'Duration of each phase of the HTTP request, summed over redirects, in seconds.', labels, [
        ['resolve', phases.resolve],
        ['connect', phases.connect],
        ['tls', phases.tls],
        ['processing', phases.processing],
        ['transfer', phases.transfer]
      ]),
      gauge(PROBE_HTTP_CONTENT_LENGTH, 'Length of the final response body, in bytes.', labels, result.ok ? result.body.length : 0),
      gauge(PROBE_HTTP_REDIRECTS, 'Number of redirects followed.', labels, result.redirects),
      gauge(PROBE_HTTP_SSL, 'Whether the final URL used TLS (1) or not (0).', labels, result.url.startsWith('https:') ? 1 : 0),
      dnsLookupFamily(labels, phases.resolve)
    ]
    if (result.tls !== undefined) {
      families.push(gauge(PROBE_SSL_EARLIEST_CERT_EXPIRY, 'Earliest expiry of the certificates the server presented, seconds since the Unix epoch.', labels, result.tls.earliestCertExpirySeconds))
    }
    if (options.bodyRegex !== undefined) families.push(regexFamily(labels, check.regexFailed))
    return families
  }
}

function jsonEqualsFailure (url: string, body: Buffer, rule: { path: string, value: unknown }): SourceFailure | undefined {
  let document: unknown
  try {
    document = JSON.parse(body.toString('utf8'))
  } catch (error) {
    return { reason: 'invalid_json', message: `${url}: body is not JSON: ${(error as Error).message}` }
  }
  let matches: unknown[]
  try {
    // Filter expressions run in jsonpath-plus's own sandboxed evaluator, never `eval`.
    matches = JSONPath({ path: rule.path, json: document as object, wrap: true, eval: 'safe' }) as unknown[]
  } catch (error) {
    return { reason: 'body_mismatch', message: `${url}: JSONPath ${rule.path} failed: ${(error as Error).message}` }
  }
  if (matches.length === 0) return { reason: 'body_mismatch', message: `${url}: JSONPath ${rule.path} selects nothing` }
  const wrong = matches.findIndex((value) => !isDeepStrictEqual(value, rule.value))
  if (wrong !== -1) {
    return { reason: 'body_mismatch', message: `${url}: JSONPath ${rule.path} is ${truncate(JSON.stringify(matches[wrong]))}, expected ${truncate(JSON.stringify(rule.value))}` }
  }
  return undefined
}

/** Keeps values read from a response short in messages. */
function truncate (text: string | undefined): string {
  if (text === undefined) return 'undefined'
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
