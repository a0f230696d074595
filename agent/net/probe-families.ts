/**
 * The metric vocabulary the probes share, named as blackbox_exporter names it so dashboards and
 * alerts written for blackbox work unchanged. Every probe metric is a gauge labelled
 * `{target, probe}`; probe-specific ones add a bounded `phase`.
 */
import type { Labels, MetricFamily } from '../types.ts'

/** 1 when the probe run succeeded, 0 otherwise. */
export const PROBE_SUCCESS = 'probe_success'
/** Wall time of the whole probe run, in seconds. */
export const PROBE_DURATION_SECONDS = 'probe_duration_seconds'
/** Time spent resolving the host name, in seconds. */
export const PROBE_DNS_LOOKUP_TIME_SECONDS = 'probe_dns_lookup_time_seconds'
/** 1 when a configured regular expression did not match, 0 otherwise. */
export const PROBE_FAILED_DUE_TO_REGEX = 'probe_failed_due_to_regex'

/** The labels every probe metric carries. */
export function probeLabels (target: string, probe: string): Labels {
  return { target, probe }
}

/** A gauge family with one sample. */
export function gauge (name: string, help: string, labels: Labels, value: number): MetricFamily {
  return { name, help, type: 'gauge', samples: [{ labels, value }] }
}

/** A gauge family with one sample per phase, in the order given. */
export function phaseGauge (name: string, help: string, labels: Labels, phases: ReadonlyArray<readonly [string, number]>): MetricFamily {
  return {
    name,
    help,
    type: 'gauge',
    samples: phases.map(([phase, value]) => ({ labels: { ...labels, phase }, value }))
  }
}

/** `probe_success` and `probe_duration_seconds`, which every probe reports on every run. */
export function outcomeFamilies (labels: Labels, success: boolean, durationSeconds: number): MetricFamily[] {
  return [
    gauge(PROBE_SUCCESS, 'Whether the probe succeeded (1) or failed (0).', labels, success ? 1 : 0),
    gauge(PROBE_DURATION_SECONDS, 'How long the probe took to complete, in seconds.', labels, durationSeconds)
  ]
}

/** `probe_dns_lookup_time_seconds`. */
export function dnsLookupFamily (labels: Labels, seconds: number): MetricFamily {
  return gauge(PROBE_DNS_LOOKUP_TIME_SECONDS, 'Time spent resolving the host name, in seconds.', labels, seconds)
}

/** `probe_failed_due_to_regex`, reported only when the probe has a regular expression to check. */
export function regexFamily (labels: Labels, failed: boolean): MetricFamily {
  return gauge(PROBE_FAILED_DUE_TO_REGEX, 'Whether the probe failed because a regular expression did not match (1) or not (0).', labels, failed ? 1 : 0)
}
