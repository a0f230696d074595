/**
 * `outrigger probe`: runs every source the config declares once, each under its own timeout, and
 * reports what each saw as a table people can read.
 */
import { performance } from 'node:perf_hooks'
import type { AgentConfig } from './config/index.ts'
import { createSources } from './sources/index.ts'
import type { SourceDeps } from './sources/index.ts'
import type { Source } from './types.ts'

/** What one source did in its one run. */
export interface ProbeRow {
  target: string
  /** The source within its target: `stats`, `process`, or `<kind>/<probe name>`. */
  source: string
  ok: boolean
  /** The bounded failure reason, when it failed. */
  reason?: string
  /** The failure message (secrets already redacted by the source), when it failed. */
  message?: string
  /** Wall time of the run, in seconds. */
  durationSeconds: number
  /** How many series the run produced. */
  series: number
}

/** Every source's run, in config order. */
export interface ProbeReport {
  rows: ProbeRow[]
  /** True when every source succeeded. */
  ok: boolean
}

/**
 * Creates the config's sources, runs each once (all at the same time, each bounded by its own
 * timeout), closes them, and reports. A source that throws is reported as failed with reason
 * `internal`; this function itself fails only when the sources cannot be created.
 */
export async function runProbeOnce (config: AgentConfig, deps: SourceDeps): Promise<ProbeReport> {
  const sources = createSources(config, deps)
  try {
    const rows = await Promise.all(sources.map(runOnce))
    return { rows, ok: rows.every((row) => row.ok) }
  } finally {
    await Promise.allSettled(sources.map(async (source) => source.close?.()))
  }
}

async function runOnce (source: Source): Promise<ProbeRow> {
  const started = performance.now()
  const row = { target: source.target, source: sourceName(source) }
  try {
    const result = await source.collect(AbortSignal.timeout(source.timeoutSeconds * 1000))
    const series = result.families.reduce((sum, family) => sum + family.samples.length, 0)
    const durationSeconds = (performance.now() - started) / 1000
    if (result.failure === undefined) return { ...row, ok: true, durationSeconds, series }
    return { ...row, ok: false, reason: result.failure.reason, message: result.failure.message, durationSeconds, series }
  } catch (error) {
    // A source must not throw; when one does anyway it is a bug, shown rather than hidden.
    return { ...row, ok: false, reason: 'internal', message: (error as Error).message, durationSeconds: (performance.now() - started) / 1000, series: 0 }
  }
}

/** The source's id without its target: `stats`, `http/health`. */
function sourceName (source: Source): string {
  const prefix = `${source.target}/`
  return source.id.startsWith(prefix) ? source.id.slice(prefix.length) : source.id
}

function formatSeconds (seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)}ms` : `${seconds.toFixed(2)}s`
}

/** Renders `report` as an aligned table with a summary line, ending in a newline. */
export function renderProbeReport (report: ProbeReport): string {
  const header = ['TARGET', 'SOURCE', 'RESULT', 'REASON', 'DURATION', 'SERIES', 'MESSAGE']
  const lines = report.rows.map((row) => [
    row.target,
    row.source,
    row.ok ? 'ok' : 'FAIL',
    row.reason ?? '-',
    formatSeconds(row.durationSeconds),
    String(row.series),
    // One line per source, whatever the message holds.
    (row.message ?? '').replace(/\s+/g, ' ')
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)))
  const render = (cells: string[]): string => cells.map((cell, column) => column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()
  const failed = report.rows.filter((row) => !row.ok).length
  const summary = report.rows.length === 0
    ? 'no sources'
    : `${report.rows.length} source${report.rows.length === 1 ? '' : 's'}: ${report.rows.length - failed} ok, ${failed} failed`
  return [render(header), ...lines.map(render), '', summary, ''].join('\n')
}
