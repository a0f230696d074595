/**
 * The agent's own view of its trace export: spans exported or lost, so an operator sees a dead
 * collector in `/metrics` (and can alert on it) rather than in the collector's absence of data.
 */
import type { MetricFamily } from '../types.ts'

/** Spans handed to the exporter, by `result`: `success` or `failure`. */
export const TRACE_SPANS_EXPORTED_TOTAL = 'outrigger_trace_spans_exported_total'
/** Export requests (batches of spans) that failed: backend unreachable, refused, timed out. */
export const TRACE_EXPORT_FAILURES_TOTAL = 'outrigger_trace_export_failures_total'
/** Spans dropped before export because the batch queue was full. */
export const TRACE_SPANS_DROPPED_TOTAL = 'outrigger_trace_spans_dropped_total'

/** Counters of the trace export pipeline; all start at 0 and only grow. */
export class TraceExportCounters {
  spansExported = 0
  spansFailed = 0
  exportFailures = 0
  spansDropped = 0

  /** The counters as metric families, labelled with the exporter in use (`otlp` or `jaeger`). */
  families (exporter: string): MetricFamily[] {
    return [
      {
        name: TRACE_SPANS_EXPORTED_TOTAL,
        type: 'counter',
        help: 'Spans handed to the trace exporter, by result of the export.',
        samples: [
          { labels: { exporter, result: 'success' }, value: this.spansExported },
          { labels: { exporter, result: 'failure' }, value: this.spansFailed }
        ]
      },
      {
        name: TRACE_EXPORT_FAILURES_TOTAL,
        type: 'counter',
        help: 'Trace export requests that failed (backend unreachable, refused or timed out).',
        samples: [{ labels: { exporter }, value: this.exportFailures }]
      },
      {
        name: TRACE_SPANS_DROPPED_TOTAL,
        type: 'counter',
        help: 'Spans dropped before export because the export queue was full.',
        samples: [{ labels: { exporter }, value: this.spansDropped }]
      }
    ]
  }
}
