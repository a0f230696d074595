/**
 * A span exporter that counts what the exporter it wraps achieved, and logs failures at a bounded
 * rate: a collector that is down for an hour costs one log line a minute, not one per batch.
 */
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'
import type { TraceExportCounters } from './trace-metrics.ts'

/** Where export failures are reported; pino's logger fits. */
export interface ExportFailureLog {
  warn (fields: Record<string, unknown>, message: string): void
}

/** `ExportResultCode.SUCCESS` of @opentelemetry/core, which this file does not load. */
const SUCCESS = 0

/** Least time between two logged export failures, in milliseconds. */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000

/** Wraps `inner`; every export outcome lands in `counters`. */
export class CountingSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter
  readonly #counters: TraceExportCounters
  readonly #log: ExportFailureLog
  readonly #now: () => number
  #lastLoggedMs = Number.NEGATIVE_INFINITY
  #unloggedFailures = 0

  constructor (inner: SpanExporter, counters: TraceExportCounters, log: ExportFailureLog, now: () => number = Date.now) {
    this.#inner = inner
    this.#counters = counters
    this.#log = log
    this.#now = now
  }

  export (spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let reported = false
    const done = (result: ExportResult): void => {
      if (reported) return
      reported = true
      if (result.code === SUCCESS) {
        this.#counters.spansExported += spans.length
      } else {
        this.#counters.spansFailed += spans.length
        this.#counters.exportFailures++
        this.#logFailure(spans.length, result.error)
      }
      resultCallback(result)
    }
    try {
      this.#inner.export(spans, done)
    } catch (error) {
      // An exporter that throws instead of reporting is still a failed export, never a crash.
      done({ code: 1, error: error instanceof Error ? error : new Error(String(error)) })
    }
  }

  async shutdown (): Promise<void> {
    await this.#inner.shutdown()
  }

  async forceFlush (): Promise<void> {
    await this.#inner.forceFlush?.()
  }

  #logFailure (spans: number, error: Error | undefined): void {
    this.#unloggedFailures++
    const now = this.#now()
    if (now - this.#lastLoggedMs < EXPORT_FAILURE_LOG_INTERVAL_MS) return
    this.#log.warn({ spans, failedExports: this.#unloggedFailures, err: error }, `trace export failed: ${error?.message ?? 'unknown error'}`)
    this.#lastLoggedMs = now
    this.#unloggedFailures = 0
  }
}
