/**
 * `/api/targets` (JSON) and `/` (a status page): each source's state, last error and timings,
 * built from the snapshot and the redacted configuration, so no secret can reach them.
 */
import type { AgentConfig } from '../config/index.ts'
import type { SourceState } from '../pipeline/snapshot.ts'

/** One source as `/api/targets` reports it. */
export interface SourceReport {
  id: string
  source: string
  kind: string
  /** `up`, `down`, or `pending` before the first run. */
  health: 'up' | 'down' | 'pending'
  intervalSeconds: number
  timeoutSeconds: number
  runs: number
  lastRun: string | null
  lastSuccess: string | null
  lastDurationSeconds: number | null
  lastError: { reason: string, message: string } | null
  errorsByReason: Record<string, number>
  /** Series this source currently exposes. */
  series: number
}

export interface TargetsReport {
  targets: Array<{ name: string, sources: SourceReport[], config: unknown }>
}

/** The `/api/targets` document. `config` must already be redacted. */
export function targetsReport (states: readonly SourceState[], config: AgentConfig): TargetsReport {
  return {
    targets: config.targets.map((target) => ({
      name: target.name,
      sources: states.filter((state) => state.target === target.name).map(sourceReport),
      config: target
    }))
  }
}

function sourceReport (state: SourceState): SourceReport {
  return {
    id: state.id,
    source: state.source,
    kind: state.kind,
    health: state.up === undefined ? 'pending' : state.up ? 'up' : 'down',
    intervalSeconds: state.intervalSeconds,
    timeoutSeconds: state.timeoutSeconds,
    runs: state.runs,
    lastRun: isoOrNull(state.lastRunSeconds),
    lastSuccess: isoOrNull(state.lastSuccessSeconds),
    lastDurationSeconds: state.lastDurationSeconds ?? null,
    lastError: state.lastFailure === undefined ? null : { reason: state.lastFailure.reason, message: state.lastFailure.message },
    errorsByReason: Object.fromEntries(state.errors),
    series: state.families.reduce((sum, family) => sum + family.samples.length, 0)
  }
}

function isoOrNull (seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(seconds * 1000).toISOString()
}

/** A plain HTML page listing every source, for a person with a browser. */
export function renderStatusPage (states: readonly SourceState[], version: string): string {
  const rows = states.map((state) => {
    const report = sourceReport(state)
    const error = report.lastError === null ? '' : `${report.lastError.reason}: ${report.lastError.message}`
    return `<tr class="${report.health}"><td>${escapeHtml(state.target)}</td><td>${escapeHtml(report.source)}</td>` +
      `<td>${report.health}</td><td>${report.lastDurationSeconds === null ? '' : (report.lastDurationSeconds * 1000).toFixed(1) + ' ms'}</td>` +
      `<td>${escapeHtml(report.lastSuccess ?? '')}</td><td>${escapeHtml(error)}</td></tr>`
  }).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outrigger</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
tr.down td:nth-child(3){color:#b00;font-weight:bold}tr.up td:nth-child(3){color:#070}</style></head>
<body><h1>Outrigger ${escapeHtml(version)}</h1>
<p><a href="/metrics">/metrics</a> · <a href="/api/targets">/api/targets</a> · <a href="/readyz">/readyz</a></p>
<table><thead><tr><th>target</th><th>source</th><th>health</th><th>last duration</th><th>last success</th><th>last error</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
