/**
 * `outrigger_probe_duration_seconds`: every probe run's duration as a histogram, with the trace of
 * the latest run as an exemplar — the way from a latency graph to the trace in Jaeger.
 *
 * Why a second metric: `probe_duration_seconds` is blackbox_exporter's gauge and stays one, so
 * dashboards and alerts written for blackbox keep working. OpenMetrics allows exemplars only on
 * counters and histogram buckets, never on gauges, so the gauge cannot carry the trace. This
 * histogram observes the very value the gauge reports, labelled `{target, probe}` like it.
 */
import { PROBE_DURATION_SECONDS } from '../net/probe-families.ts'
import type { CollectResult, HistogramSample, Labels, MetricFamily, Source } from '../types.ts'
import type { RunTrace } from './agent-tracing.ts'

/** Probe durations as a histogram, in seconds, with trace exemplars. */
export const OUTRIGGER_PROBE_DURATION_SECONDS = 'outrigger_probe_duration_seconds'

/**
 * Bucket bounds in seconds: those of `outrigger_source_duration_seconds`, so the two compare
 * bucket for bucket. Probe deadlines default to 5 s; a latency threshold for an alert on probes
 * must be one of these bounds.
 */
export const PROBE_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface ProbeHistogram {
  labels: Labels
  counts: number[]
  sum: number
  count: number
  exemplar?: HistogramSample['exemplar']
}

/** Accumulates probe durations across runs; state lives here, keyed by source id. */
export class ProbeDurationHistogram {
  readonly #histograms = new Map<string, ProbeHistogram>()

  /** Keeps only the probes among `sources` (after a reload, removed probes stop being reported). */
  track (sources: readonly Source[]): void {
    const keep = new Set(sources.map((source) => source.id))
    for (const id of this.#histograms.keys()) {
      if (!keep.has(id)) this.#histograms.delete(id)
    }
  }

  /**
   * Observes the `probe_duration_seconds` of one run, if `result` has one; `trace` becomes the
   * exemplar. `endSeconds` is the Unix time the run ended.
   */
  observe (source: Source, result: CollectResult, endSeconds: number, trace: RunTrace | undefined): void {
    const sample = result.families.find((family) => family.name === PROBE_DURATION_SECONDS && family.type !== 'histogram')?.samples[0]
    if (sample === undefined || !('value' in sample)) return
    let histogram = this.#histograms.get(source.id)
    if (histogram === undefined) {
      histogram = { labels: sample.labels, counts: PROBE_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }
      this.#histograms.set(source.id, histogram)
    }
    const value = sample.value
    histogram.sum += value
    histogram.count++
    PROBE_DURATION_BUCKETS.forEach((le, index) => {
      if (value <= le) histogram.counts[index] = (histogram.counts[index] ?? 0) + 1
    })
    // Without a trace the old exemplar stays: it still points at a real, if older, probe run.
    if (trace !== undefined) histogram.exemplar = { traceId: trace.traceId, spanId: trace.spanId, value, timestampSeconds: endSeconds }
  }

  /** The histogram family; empty (and so left out of the exposition) before the first probe run. */
  families (): MetricFamily[] {
    const samples: HistogramSample[] = [...this.#histograms.values()].map((histogram) => ({
      labels: histogram.labels,
      buckets: PROBE_DURATION_BUCKETS.map((le, index) => ({ le, count: histogram.counts[index] ?? 0 })),
      sum: histogram.sum,
      count: histogram.count,
      ...(histogram.exemplar === undefined ? {} : { exemplar: histogram.exemplar })
    }))
    return [{ name: OUTRIGGER_PROBE_DURATION_SECONDS, type: 'histogram', help: 'Duration of probe runs, in seconds, with the trace of the latest run as an exemplar.', samples }]
  }
}
