/**
 * Step 6 (footprint and scale): the agent's resident memory and CPU at steady state with 1, 10 and
 * 100 targets, every source every 1 s and every 15 s. Each target is what a real one costs: a
 * stats document (6 routes, about the demo app's size), an HTTP probe, a TCP probe and the
 * process, all served by the target farm. The CPU per target per cycle shows how cost grows.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchContext } from '../bench-context.ts'
import { farmAgentConfig, startAgent } from '../agent-process.ts'
import { readProcess, usageBetween } from '../process-meter.ts'
import { rounded } from '../statistics.ts'
import { startTargetFarm } from '../target-farm-process.ts'

/** Sources per target in this step: stats, HTTP probe, TCP probe, process. */
const SOURCES_PER_TARGET = 4
/** Routes in each target's stats document. */
const ROUTES_PER_TARGET = 6

export interface FootprintRow {
  targets: number
  sources: number
  intervalSeconds: number
  windowSeconds: number
  /** Collection cycles in the window (window / interval). */
  cycles: number
  rssMiB: number | null
  peakRssMiB: number | null
  cpuPercent: number | null
  /** Agent CPU per target per collection cycle, in ms. */
  cpuMsPerTargetPerCycle: number | null
}

export interface FootprintResult {
  sourcesPerTarget: number
  routesPerTarget: number
  rows: FootprintRow[]
  /**
   * For each interval: CPU per target per cycle at the most targets / at the fewest (above 1):
   * 1.0 is perfectly linear growth, above 1 is worse than linear.
   */
  perTargetCostGrowth: Array<{ intervalSeconds: number, fromTargets: number, toTargets: number, factor: number | null }>
}

/** Runs the footprint part of step 6. */
export async function runAgentFootprint (ctx: BenchContext): Promise<FootprintResult> {
  const settings = ctx.options.footprint
  const farm = await startTargetFarm(ctx.logDir)
  const rows: FootprintRow[] = []
  try {
    for (const intervalSeconds of settings.intervalsSeconds) {
      for (const targets of settings.targets) {
        const agent = await startAgent(`agent-footprint-${targets}x${intervalSeconds}s`,
          farmAgentConfig(farm, { targets, intervalSeconds, routes: ROUTES_PER_TARGET, probes: true }), ctx.logDir)
        try {
          // Past start-up (every source has run once by /readyz) and one more cycle, at most 5 s.
          await sleep(Math.min(5, intervalSeconds) * 1000)
          const windowSeconds = Math.max(settings.minWindowSeconds, settings.minCycles * intervalSeconds)
          const before = readProcess(agent.child.pid)
          await sleep(windowSeconds * 1000)
          const usage = usageBetween(before, readProcess(agent.child.pid))
          const cycles = usage.windowSeconds / intervalSeconds
          const row: FootprintRow = {
            targets,
            sources: targets * SOURCES_PER_TARGET,
            intervalSeconds,
            windowSeconds: rounded(usage.windowSeconds, 1) ?? windowSeconds,
            cycles: rounded(cycles, 2) ?? 0,
            rssMiB: rounded(usage.rssMiB, 1),
            peakRssMiB: rounded(usage.peakRssMiB, 1),
            cpuPercent: rounded(usage.cpuPercent, 2),
            cpuMsPerTargetPerCycle: cycles > 0 ? rounded((usage.cpuSeconds * 1000) / (targets * cycles), 3) : null
          }
          rows.push(row)
          ctx.log(`${String(targets).padStart(3)} targets (${row.sources} sources) every ${intervalSeconds}s: rss ${usage.rssMiB.toFixed(1)} MiB, ` +
            `cpu ${usage.cpuPercent.toFixed(2)}%, ${row.cpuMsPerTargetPerCycle?.toFixed(3) ?? '-'} ms CPU per target per cycle`)
        } finally {
          await agent.stop()
        }
      }
    }
  } finally {
    await farm.stop()
  }
  const perTargetCostGrowth = settings.intervalsSeconds.map((intervalSeconds) => {
    const forInterval = rows.filter((r) => r.intervalSeconds === intervalSeconds)
    const candidates = forInterval.filter((r) => r.targets > 1)
    const from = (candidates.length > 1 ? candidates : forInterval)[0]
    const to = forInterval.at(-1)
    const factor = from?.cpuMsPerTargetPerCycle && to?.cpuMsPerTargetPerCycle ? rounded(to.cpuMsPerTargetPerCycle / from.cpuMsPerTargetPerCycle, 3) : null
    return { intervalSeconds, fromTargets: from?.targets ?? 0, toTargets: to?.targets ?? 0, factor }
  })
  return { sourcesPerTarget: SOURCES_PER_TARGET, routesPerTarget: ROUTES_PER_TARGET, rows, perTargetCostGrowth }
}
