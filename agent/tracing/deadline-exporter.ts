/**
 * A span exporter with a hard deadline on every export, for exporters that have none of their own:
 * past the deadline the export is reported failed and the connection it holds is ended, so a
 * backend that accepts and never answers (or trickles its answer) costs one counted failure, not a
 * socket held for good.
 *
 * Ending the connection is the wrapped exporter's business (it alone knows its sockets): the
 * `abandon` callback does it. Whatever the wrapped exporter reports after the deadline is ignored.
 */
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'

/** `ExportResultCode.FAILED` of @opentelemetry/core, which this file does not load. */
const FAILED = 1

/** Wraps `inner`; each export reports within `deadlineMs`. */
export class DeadlineSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter
  readonly #deadlineMs: number
  readonly #abandon: () => void
  /** Exports still waiting for `inner`, each as the function that fails it. */
  readonly #pending = new Set<(error: Error) => void>()

  /**
   * @param inner the exporter that sends.
   * @param deadlineMs how long one export may take, in milliseconds.
   * @param abandon ends every connection `inner` holds, so that its stuck requests fail and their
   *   sockets close; `inner` must stay usable for the next export. Called at each missed deadline
   *   and by {@link abort}.
   */
  constructor (inner: SpanExporter, deadlineMs: number, abandon: () => void) {
    this.#inner = inner
    this.#deadlineMs = deadlineMs
    this.#abandon = abandon
  }

  export (spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const settle = (result: ExportResult): void => {
      if (!this.#pending.delete(fail)) return
      clearTimeout(timer)
      resultCallback(result)
    }
    const fail = (error: Error): void => settle({ code: FAILED, error })
    this.#pending.add(fail)
    const timer = setTimeout(() => {
      fail(new Error(`the trace export took longer than ${this.#deadlineMs} ms; its connection was closed`))
      this.#abandon()
    }, this.#deadlineMs)
    timer.unref()
    try {
      this.#inner.export(spans, settle)
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /**
   * Fails every export still in flight and ends the connections they hold; for after a shutdown
   * that ran out of time, so nothing of the exporter outlives it. Safe to call at any time.
   */
  abort (): void {
    if (this.#pending.size === 0) return
    for (const fail of [...this.#pending]) fail(new Error('the trace export was abandoned: tracing closed before it finished'))
    this.#abandon()
  }

  async shutdown (): Promise<void> {
    await this.#inner.shutdown()
  }

  async forceFlush (): Promise<void> {
    await this.#inner.forceFlush?.()
  }
}
