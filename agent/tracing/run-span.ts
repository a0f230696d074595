/**
 * What a source and the outbound HTTP request see of the trace of the run they belong to.
 *
 * Sources keep the pipeline's `collect(signal)` signature, so the run's span reaches them through
 * an AsyncLocalStorage rather than a parameter: the scheduler's wrapper enters it, and everything
 * the run awaits sees it. The storage holds nothing outside a run, so two agents in one process
 * never see each other's spans, and nothing here touches OpenTelemetry's global API. With tracing
 * off no run span exists and every call site skips its tracing work.
 *
 * This file loads no OpenTelemetry code: the agent's footprint with tracing off stays as it was.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { FailureReason } from '../errors.ts'

/** Span attribute values the agent records. `undefined` entries are skipped. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>

/** A span for one operation inside a run, such as one HTTP exchange or one database query. */
export interface OperationSpan {
  /** Adds attributes (semantic-convention names, see span-attributes.ts). */
  setAttributes (attributes: SpanAttributes): void
  /** Records a timed event, e.g. the end of an HTTP phase; `timeMs` is Unix milliseconds, default now. */
  addEvent (name: string, attributes?: SpanAttributes, timeMs?: number): void
  /** W3C trace-context headers (`traceparent`, and `tracestate` when there is one) naming this span as the parent. */
  traceHeaders (): Record<string, string>
  /** Marks the operation failed: status error with `message`, and `outrigger.failure.reason`. */
  fail (reason: FailureReason, message: string): void
  /** Ends the span; `timeMs` is Unix milliseconds, default now. Later calls do nothing. */
  end (timeMs?: number): void
}

/** The span of one source run. Its status and end belong to the scheduler's wrapper. */
export interface RunSpan {
  /** Adds attributes to the run's span. */
  setAttributes (attributes: SpanAttributes): void
  /** Records a timed event on the run's span; `timeMs` is Unix milliseconds, default now. */
  addEvent (name: string, attributes?: SpanAttributes, timeMs?: number): void
  /** Starts a child span; the caller must `end()` it. `startTimeMs` is Unix milliseconds, default now. */
  startChild (name: string, options: { kind: 'client' | 'internal', attributes?: SpanAttributes, startTimeMs?: number }): OperationSpan
}

const storage = new AsyncLocalStorage<RunSpan>()

/** The span of the run the caller is part of, or undefined when tracing is off or outside a run. */
export function currentRunSpan (): RunSpan | undefined {
  return storage.getStore()
}

/** Runs `fn` with `span` as the current run span for everything it awaits. */
export function runInSpan<T> (span: RunSpan, fn: () => T): T {
  return storage.run(span, fn)
}
