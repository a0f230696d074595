/**
 * The app stats source: fetches the application's statistics JSON and turns it into `app_*`
 * families, either as an `outrigger.stats/v1` document or through declarative mapping rules.
 */
import type { CollectResult, MetricFamily, Source } from '../types.ts'
import { OutriggerError } from '../errors.ts'
import { httpRequest } from '../net/http-request.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_FULL, spanUrl } from '../tracing/span-attributes.ts'
import type { TlsOptions } from '../net/http-request.ts'
import { compileMappings } from './json-mapping.ts'
import type { CompiledMappings, MappingRule } from './json-mapping.ts'

/** Strict UTF-8: throws on a byte sequence that is not UTF-8 instead of replacing it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** A stats source as the configuration declares it. */
export interface StatsSourceOptions {
  /** Name of the target; every sample's `target` label. */
  target: string
  /** URL of the stats document, fetched with GET. */
  url: string
  /** Request headers (such as `Authorization`). Default none. */
  headers?: Readonly<Record<string, string>>
  /** `contract`: the document is `outrigger.stats/v1`; `mapping`: any JSON read through `mappings`. */
  format: 'contract' | 'mapping'
  /** Rules for `format: 'mapping'`; at least one. Compiled once, in the constructor. */
  mappings?: readonly MappingRule[]
  /** Certificate checks for an `https` URL. */
  tls?: TlsOptions
  /** Run period, seconds. */
  intervalSeconds: number
  /** Deadline of one run, seconds. */
  timeoutSeconds: number
  /** Largest document read, in bytes; a larger one fails the run with `body_too_large`. */
  bodyLimitBytes: number
  /**
   * Most series one run may yield, counted as Prometheus stores them (a histogram sample is one
   * series per bucket, plus `+Inf`, `_sum` and `_count`). Over it the run yields nothing and fails
   * with `too_many_series`.
   */
  seriesLimit: number
}

/**
 * Reads one application's statistics per run; see {@link StatsSourceOptions}.
 * @throws OutriggerError `OUTRIGGER_ERR_MAPPING_INVALID` when `format` is `mapping` and the rules
 *   are missing or invalid (as {@link compileMappings} reports them).
 */
export class StatsSource implements Source {
  readonly id: string
  readonly target: string
  readonly kind = 'stats' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  readonly #options: StatsSourceOptions
  readonly #mappings: CompiledMappings | undefined

  constructor (options: StatsSourceOptions) {
    this.#options = options
    this.id = `${options.target}/stats`
    this.target = options.target
    this.intervalSeconds = options.intervalSeconds
    this.timeoutSeconds = options.timeoutSeconds
    if (options.format === 'mapping') {
      if (options.mappings === undefined || options.mappings.length === 0) {
        throw new OutriggerError('OUTRIGGER_ERR_MAPPING_INVALID', `stats source ${this.id}: format "mapping" needs at least one mapping rule`)
      }
      this.#mappings = compileMappings(options.mappings)
    }
  }

  /**
   * Fetches and converts the document once. Never rejects: a fetch, status, JSON or series-limit
   * problem yields no families and the failure; a conversion problem yields what the converter
   * produced (nothing for a contract mismatch, the good rules' families for a mapping) and its failure.
   */
  async collect (signal: AbortSignal): Promise<CollectResult> {
    const options = this.#options
    const response = await httpRequest({
      url: options.url,
      method: 'GET',
      headers: { accept: 'application/json', ...options.headers },
      signal,
      bodyLimitBytes: options.bodyLimitBytes,
      ...(options.tls === undefined ? {} : { tls: options.tls })
    })
    currentRunSpan()?.setAttributes({ [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_FULL]: spanUrl(options.url), [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.status })
    if (!response.ok) return { families: [], failure: response.failure }
    if (response.status < 200 || response.status > 299) {
      return { families: [], failure: { reason: 'http_status', message: `GET ${response.url}: status ${response.status}, expected 2xx` } }
    }
    let document: unknown
    try {
      // JSON is UTF-8 (RFC 8259). Decoding bad bytes to U+FFFD instead could turn two different
      // names into one label value and silently drop a series, so a body that is not UTF-8 is refused.
      document = JSON.parse(UTF8.decode(response.body))
    } catch (error) {
      return { families: [], failure: { reason: 'invalid_json', message: `GET ${response.url}: body is not JSON: ${(error as Error).message}` } }
    }
    // The contract converter compiles the contract's JSON Schema when it loads (several MiB of
    // memory); loading it at the first contract read spares agents that have no contract target.
    const result = this.#mappings === undefined
      ? (await import('./stats-contract.ts')).contractToFamilies(document, options.target)
      : this.#mappings.apply(document, options.target)
    const series = countSeries(result.families)
    if (series > options.seriesLimit) {
      return { families: [], failure: { reason: 'too_many_series', message: `GET ${response.url}: ${series} series exceed the limit of ${options.seriesLimit}` } }
    }
    return result
  }
}

/**
 * The number of series `families` expose in Prometheus: one per scalar sample; per histogram
 * sample one per bucket plus `+Inf`, `_sum` and `_count`.
 */
export function countSeries (families: readonly MetricFamily[]): number {
  let series = 0
  for (const family of families) {
    if (family.type === 'histogram') {
      for (const sample of family.samples) series += sample.buckets.length + 3
    } else {
      series += family.samples.length
    }
  }
  return series
}
