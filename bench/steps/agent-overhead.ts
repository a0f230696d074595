/**
 * Step 4: what the agent costs the app it watches. One optimized app serves cached reads (Zipf
 * key spread) at full speed; rounds alternate between no agent and an agent collecting every
 * source every second (stats, HTTP, TCP and Postgres probes, process). The overhead is taken from
 * the per-pair throughput ratios, whose median resists background noise.
 */
import type { BenchContext } from '../bench-context.ts'
import { demoAppAgentConfig, startAgent } from '../agent-process.ts'
import { startDemoApp } from '../demo-app-process.ts'
import { runLoad } from '../load-generator.ts'
import { readProcess, usageBetween } from '../process-meter.ts'
import { SCENARIOS } from '../scenarios.ts'
import { median, rounded } from '../statistics.ts'

export interface OverheadRound {
  withAgent: boolean
  requestsPerSecond: number | null
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  errors: number
  /** The app's CPU in the window, % of one core. */
  appCpuPercent: number | null
  /** The agent's CPU in the window, % of one core (with the agent only). */
  agentCpuPercent: number | null
  agentRssMiB: number | null
}

export interface OverheadResult {
  scenario: string
  intervalSeconds: number
  connections: number
  measureSeconds: number
  rounds: OverheadRound[]
  /** Median throughput with the agent / without, over adjacent pairs of rounds. */
  throughputRatio: number | null
  /** (1 − throughputRatio) × 100. */
  overheadPercent: number | null
  /** Median p99 with the agent / without, over the same pairs. */
  p99Ratio: number | null
  /** The spread of the pair ratios (max − min), a measure of the noise. */
  ratioSpread: number | null
  /** Median agent CPU over the rounds with it, % of one core. */
  agentCpuPercent: number | null
  /**
   * The agent's CPU as a % of the app's (medians): what the agent would take from an app that is
   * CPU-bound on a shared core, free of the throughput noise.
   */
  agentCpuOfAppPercent: number | null
}

/** Runs step 4. */
export async function runAgentOverhead (ctx: BenchContext): Promise<OverheadResult> {
  const settings = ctx.options.overhead
  const postgres = await ctx.postgres()
  const scenario = SCENARIOS.find((s) => s.name === 'read-spread')
  if (scenario === undefined) throw new Error('scenario read-spread is missing')
  const databaseUrl = await postgres.databaseUrl('bench_optimized')
  const app = await startDemoApp({ profile: 'optimized', databaseUrl, upstreamUrl: await ctx.upstreamUrl(), seedRows: ctx.options.seedRows, logDir: ctx.logDir })
  const rounds: OverheadRound[] = []
  try {
    const next = scenario.requests(ctx.options.seedRows)
    await runLoad({ origin: app.origin, connections: settings.connections, durationSeconds: Math.max(settings.warmupSeconds, 0.5), next })
    for (let i = 0; i < settings.rounds * 2; i++) {
      // off, on, on, off, off, on, …: each contestant goes first in half of the pairs.
      const withAgent = [false, true, true, false][i % 4] as boolean
      const agent = withAgent
        ? await startAgent('agent-overhead', demoAppAgentConfig(app, databaseUrl, settings.intervalSeconds), ctx.logDir)
        : undefined
      try {
        // Both kinds of round warm up alike; with the agent, this is also its first cycles.
        if (settings.warmupSeconds > 0) {
          await runLoad({ origin: app.origin, connections: settings.connections, durationSeconds: settings.warmupSeconds, next })
        }
        const agentBefore = agent === undefined ? undefined : readProcess(agent.child.pid)
        const appBefore = readProcess(app.child.pid)
        const load = await runLoad({ origin: app.origin, connections: settings.connections, durationSeconds: settings.measureSeconds, next })
        const appUsage = usageBetween(appBefore, readProcess(app.child.pid))
        const agentUsage = agent === undefined || agentBefore === undefined ? undefined : usageBetween(agentBefore, readProcess(agent.child.pid))
        const round: OverheadRound = {
          withAgent,
          requestsPerSecond: rounded(load.requestsPerSecond, 1),
          latencyP50Ms: rounded(load.latencyP50Ms, 3),
          latencyP99Ms: rounded(load.latencyP99Ms, 3),
          errors: load.errors + load.timeouts + load.non2xx,
          appCpuPercent: rounded(appUsage.cpuPercent, 1),
          agentCpuPercent: rounded(agentUsage?.cpuPercent, 2),
          agentRssMiB: rounded(agentUsage?.rssMiB, 1)
        }
        rounds.push(round)
        ctx.log(`round ${i + 1}/${settings.rounds * 2} ${withAgent ? 'with agent' : 'no agent  '}: ${load.requestsPerSecond.toFixed(0)} req/s, ` +
          `p99 ${load.latencyP99Ms.toFixed(2)} ms${agentUsage === undefined ? '' : `, agent cpu ${agentUsage.cpuPercent.toFixed(2)}% rss ${agentUsage.rssMiB.toFixed(1)} MiB`}`)
      } finally {
        await agent?.stop()
      }
    }
  } finally {
    await app.stop()
  }
  const pairRatios = (key: 'requestsPerSecond' | 'latencyP99Ms'): number[] => {
    const ratios: number[] = []
    for (let i = 0; i + 1 < rounds.length; i += 2) {
      const a = rounds[i]
      const b = rounds[i + 1]
      if (a === undefined || b === undefined) continue
      const on = a.withAgent ? a : b
      const off = a.withAgent ? b : a
      if (on[key] !== null && off[key] !== null && (off[key] as number) > 0) ratios.push((on[key] as number) / (off[key] as number))
    }
    return ratios
  }
  const throughput = pairRatios('requestsPerSecond')
  const throughputRatio = throughput.length === 0 ? null : median(throughput)
  const agentCpu = median(rounds.filter((r) => r.withAgent && r.agentCpuPercent !== null).map((r) => r.agentCpuPercent as number))
  const appCpu = median(rounds.filter((r) => r.appCpuPercent !== null).map((r) => r.appCpuPercent as number))
  return {
    scenario: scenario.name,
    intervalSeconds: settings.intervalSeconds,
    connections: settings.connections,
    measureSeconds: settings.measureSeconds,
    rounds,
    throughputRatio: rounded(throughputRatio, 4),
    overheadPercent: throughputRatio === null ? null : rounded((1 - throughputRatio) * 100, 2),
    p99Ratio: rounded(median(pairRatios('latencyP99Ms')), 3),
    ratioSpread: throughput.length === 0 ? null : rounded(Math.max(...throughput) - Math.min(...throughput), 4),
    agentCpuPercent: rounded(agentCpu, 2),
    agentCpuOfAppPercent: appCpu > 0 ? rounded((agentCpu / appCpu) * 100, 2) : null
  }
}
