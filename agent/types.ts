/**
 * The shapes every part of the agent shares. Sources produce {@link CollectResult}s, the pipeline
 * keeps the last good one per source, and the exporters render them. Nothing here does I/O.
 */
import type { FailureReason } from './errors.ts'

/** Label names to values. Values come from bounded sets (config, contract names), never raw input. */
export type Labels = Readonly<Record<string, string>>

/** A counter or gauge value at one label set. */
export interface ScalarSample {
  labels: Labels
  value: number
}

/** A histogram at one label set: cumulative buckets ascending by `le` (seconds), `+Inf` implied by `count`. */
export interface HistogramSample {
  labels: Labels
  buckets: ReadonlyArray<{ le: number, count: number }>
  sum: number
  count: number
  /** Trace that produced the latest observation, rendered as an OpenMetrics exemplar when present. */
  exemplar?: { traceId: string, spanId: string, value: number, timestampSeconds: number }
}

export type MetricFamily =
  | { name: string, help: string, type: 'counter' | 'gauge', samples: ScalarSample[] }
  | { name: string, help: string, type: 'histogram', samples: HistogramSample[] }

/** Why a collection failed, as data: a bounded reason for labels and a message for people. */
export interface SourceFailure {
  reason: FailureReason
  /** One line for logs and `/api/targets`, with secrets already redacted. */
  message: string
}

/**
 * What one run of a source yields. A failed probe still yields families (`probe_success 0`,
 * its duration) *and* a failure; a source that could not read anything yields no families.
 */
export interface CollectResult {
  families: MetricFamily[]
  failure?: SourceFailure
}

/** The kinds of source the config can declare. */
export type SourceKind = 'stats' | 'http' | 'tcp' | 'postgres' | 'process'

/**
 * A source: a small object that reads one thing about one target. State between runs (previous
 * counters, the followed pid) lives on the instance. `collect` must honour `signal` (the run's
 * deadline) and must not throw for a target's failure — it returns it as {@link SourceFailure}.
 */
export interface Source {
  /** Unique within the agent: `<target>/<kind>[/<name>]`. */
  readonly id: string
  readonly target: string
  readonly kind: SourceKind
  /** Run period in seconds. */
  readonly intervalSeconds: number
  /** Deadline of one run in seconds; always below `intervalSeconds`. */
  readonly timeoutSeconds: number
  collect(signal: AbortSignal): Promise<CollectResult>
  /** Releases sockets and pools; safe to call twice. */
  close?(): Promise<void>
}
