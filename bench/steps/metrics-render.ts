/**
 * Step 6 (render): how long `GET /metrics` takes with about 1k, 10k and 100k series in the
 * snapshot. The series come from stats documents on the target farm (up to 1,000 routes, 16
 * series each, per target); collection runs once a minute so it does not overlap the timings.
 * Each sample is one request from a separate scraper process on loopback (bench/scraper.ts), body
 * read to the end: what Prometheus sees.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { BenchContext } from '../bench-context.ts'
import { farmAgentConfig, startAgent } from '../agent-process.ts'
import { REPO_ROOT } from '../child-service.ts'
import { readProcess } from '../process-meter.ts'
import { percentile, rounded } from '../statistics.ts'
import { MAX_ROUTES as MAX_ROUTES_PER_TARGET, SERIES_PER_ROUTE } from '../farm-stats-document.ts'
import { startTargetFarm } from '../target-farm-process.ts'

export interface RenderRow {
  /** Series asked for. */
  seriesTarget: number
  /** Series in the body (sample lines), the agent's own included. */
  series: number
  targets: number
  bodyBytes: number
  samples: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  /** The agent's resident memory after the samples. */
  agentRssMiB: number | null
}

export interface RenderResult {
  rows: RenderRow[]
}

const execFileAsync = promisify(execFile)

/** Runs the render part of step 6. */
export async function runMetricsRender (ctx: BenchContext): Promise<RenderResult> {
  const settings = ctx.options.render
  const farm = await startTargetFarm(ctx.logDir)
  const rows: RenderRow[] = []
  try {
    for (const seriesTarget of settings.series) {
      const routesNeeded = Math.ceil(seriesTarget / SERIES_PER_ROUTE)
      const targets = Math.ceil(routesNeeded / MAX_ROUTES_PER_TARGET)
      const routes = Math.ceil(routesNeeded / targets)
      const agent = await startAgent(`agent-render-${seriesTarget}`, farmAgentConfig(farm, { targets, intervalSeconds: 60, routes, probes: false }), ctx.logDir)
      try {
        const { stdout } = await execFileAsync(process.execPath, ['bench/scraper.ts', `${agent.origin}/metrics`, String(settings.warmupSamples), String(settings.samples)],
          { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 })
        const { durationsMs: durations, bodyBytes, series } = JSON.parse(stdout) as { durationsMs: number[], bodyBytes: number, series: number }
        const row: RenderRow = {
          seriesTarget,
          series,
          targets,
          bodyBytes,
          samples: durations.length,
          p50Ms: rounded(percentile(durations, 50), 2),
          p99Ms: rounded(percentile(durations, 99), 2),
          maxMs: rounded(Math.max(...durations), 2),
          agentRssMiB: rounded(readProcess(agent.child.pid).rssBytes / 1048576, 1)
        }
        rows.push(row)
        ctx.log(`${series} series (${targets} target${targets === 1 ? '' : 's'}, ${(row.bodyBytes / 1024).toFixed(0)} KiB): ` +
          `p50 ${row.p50Ms?.toFixed(2) ?? '-'} ms, p99 ${row.p99Ms?.toFixed(2) ?? '-'} ms over ${row.samples} scrapes, agent rss ${row.agentRssMiB ?? '-'} MiB`)
      } finally {
        await agent.stop()
      }
    }
  } finally {
    await farm.stop()
  }
  return { rows }
}
