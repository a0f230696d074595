/**
 * The agent's own health as metric families: per source up, durations, runs and errors by a
 * bounded reason; config reload status; build info. Derived from the snapshot at render time, so
 * there is no second copy of the state to keep in step.
 */
import type { SourceState } from '../pipeline/snapshot.ts'
import { SOURCE_DURATION_BUCKETS } from '../pipeline/snapshot.ts'
import type { HistogramSample, MetricFamily, ScalarSample } from '../types.ts'

export const SOURCE_UP = 'outrigger_source_up'
export const SOURCE_LAST_DURATION_SECONDS = 'outrigger_source_last_duration_seconds'
export const SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS = 'outrigger_source_last_success_timestamp_seconds'
export const SOURCE_RUNS_TOTAL = 'outrigger_source_runs_total'
export const SOURCE_ERRORS_TOTAL = 'outrigger_source_errors_total'
export const SOURCE_DURATION_SECONDS = 'outrigger_source_duration_seconds'
export const CONFIG_LAST_RELOAD_SUCCESSFUL = 'outrigger_config_last_reload_successful'
export const CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS = 'outrigger_config_last_reload_success_timestamp_seconds'
export const BUILD_INFO = 'outrigger_build_info'

/** The state of configuration loading, as `/metrics` reports it. */
export interface ConfigStatus {
  /** Whether the last load or reload succeeded. */
  lastReloadSuccessful: boolean
  /** Unix seconds of the last successful load or reload. */
  lastSuccessSeconds: number
}

/** Build identity for `outrigger_build_info`. */
export interface BuildInfo {
  version: string
}

/** Families describing the agent itself. */
export function selfFamilies (states: readonly SourceState[], config: ConfigStatus, build: BuildInfo): MetricFamily[] {
  const up: ScalarSample[] = []
  const lastDuration: ScalarSample[] = []
  const lastSuccess: ScalarSample[] = []
  const runs: ScalarSample[] = []
  const errors: ScalarSample[] = []
  const durations: HistogramSample[] = []
  for (const state of states) {
    const labels = { target: state.target, source: state.source }
    if (state.up !== undefined) {
      up.push({ labels, value: state.up ? 1 : 0 })
    }
    if (state.lastDurationSeconds !== undefined) {
      lastDuration.push({ labels, value: state.lastDurationSeconds })
    }
    if (state.lastSuccessSeconds !== undefined) {
      lastSuccess.push({ labels, value: state.lastSuccessSeconds })
    }
    runs.push({ labels, value: state.runs })
    for (const [reason, count] of state.errors) {
      errors.push({ labels: { ...labels, reason }, value: count })
    }
    const histogram: HistogramSample = {
      labels,
      buckets: SOURCE_DURATION_BUCKETS.map((le, i) => ({ le, count: state.durations.buckets[i] ?? 0 })),
      sum: state.durations.sum,
      count: state.durations.count
    }
    if (state.lastTrace !== undefined && state.lastDurationSeconds !== undefined && state.lastRunSeconds !== undefined) {
      histogram.exemplar = { ...state.lastTrace, value: state.lastDurationSeconds, timestampSeconds: state.lastRunSeconds + state.lastDurationSeconds }
    }
    durations.push(histogram)
  }
  return [
    { name: SOURCE_UP, type: 'gauge', help: 'Whether the last run of the source succeeded (1) or failed (0).', samples: up },
    { name: SOURCE_LAST_DURATION_SECONDS, type: 'gauge', help: 'Duration of the last run of the source, in seconds.', samples: lastDuration },
    { name: SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS, type: 'gauge', help: 'Unix time of the start of the last successful run, in seconds.', samples: lastSuccess },
    { name: SOURCE_RUNS_TOTAL, type: 'counter', help: 'Runs of the source since the agent started, successful or not.', samples: runs },
    { name: SOURCE_ERRORS_TOTAL, type: 'counter', help: 'Failed runs of the source by bounded reason.', samples: errors },
    { name: SOURCE_DURATION_SECONDS, type: 'histogram', help: 'Duration of source runs, in seconds.', samples: durations },
    {
      name: CONFIG_LAST_RELOAD_SUCCESSFUL,
      type: 'gauge',
      help: 'Whether the last configuration load or reload succeeded (1) or was refused (0).',
      samples: [{ labels: {}, value: config.lastReloadSuccessful ? 1 : 0 }]
    },
    {
      name: CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP_SECONDS,
      type: 'gauge',
      help: 'Unix time of the last successful configuration load or reload, in seconds.',
      samples: [{ labels: {}, value: config.lastSuccessSeconds }]
    },
    {
      name: BUILD_INFO,
      type: 'gauge',
      help: 'Always 1; labelled with the agent version and the Node.js version running it.',
      samples: [{ labels: { version: build.version, nodejs_version: process.version }, value: 1 }]
    }
  ]
}
