/**
 * Step 3: how many concurrent users the optimized app holds on this machine (and, for the report's
 * before/after table, the baseline). A user is an open keep-alive connection sending a read by id
 * (Zipf key spread) at a fixed rate (see user-load.ts); the count steps up until p99 reaches the
 * limit or any request fails.
 */
import type { BenchContext } from '../bench-context.ts'
import { startDemoApp, type Profile } from '../demo-app-process.ts'
import { runLoad } from '../load-generator.ts'
import { runUsers } from '../user-load.ts'
import { readProcess, usageBetween } from '../process-meter.ts'
import { SCENARIOS } from '../scenarios.ts'
import { rounded } from '../statistics.ts'

export interface ConcurrencyStep {
  connections: number
  /** Offered load: connections × rate per connection. */
  offeredRequestsPerSecond: number
  requestsPerSecond: number | null
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  errors: number
  appCpuPercent: number | null
  appRssMiB: number | null
  /** p99 of the load generator's own event-loop delay: high values mean the generator, not the app, was the limit. */
  generatorDelayP99Ms: number | null
  /** p99 under the limit and no errors. */
  held: boolean
}

export interface ConcurrencyResult {
  scenario: string
  ratePerConnection: number
  p99LimitMs: number
  measureSeconds: number
  optimized: ProfileConcurrency
  baseline: ProfileConcurrency
}

/** The steps of one profile. */
export interface ProfileConcurrency {
  steps: ConcurrencyStep[]
  /** The most connections held; 0 when even the first step failed. */
  maxConnectionsHeld: number
  /** Whether the largest step tried was held (the real limit is higher than measured). */
  limitNotReached: boolean
}

/** Runs step 3 against a fresh optimized app, then a fresh baseline app. */
export async function runConcurrency (ctx: BenchContext): Promise<ConcurrencyResult> {
  const settings = ctx.options.concurrency
  const optimized = await stepUp(ctx, 'optimized')
  const baseline = await stepUp(ctx, 'baseline')
  return { scenario: 'read-spread', ratePerConnection: settings.ratePerConnection, p99LimitMs: settings.p99LimitMs, measureSeconds: settings.measureSeconds, optimized, baseline }
}

async function stepUp (ctx: BenchContext, profile: Profile): Promise<ProfileConcurrency> {
  const settings = ctx.options.concurrency
  const postgres = await ctx.postgres()
  const scenario = SCENARIOS.find((s) => s.name === 'read-spread')
  if (scenario === undefined) throw new Error('scenario read-spread is missing')
  const app = await startDemoApp({
    profile,
    databaseUrl: await postgres.databaseUrl(`bench_${profile}`),
    upstreamUrl: await ctx.upstreamUrl(),
    seedRows: ctx.options.seedRows,
    logDir: ctx.logDir
  })
  const steps: ConcurrencyStep[] = []
  try {
    const next = scenario.requests(ctx.options.seedRows)
    // Warm the cache and the JIT once.
    await runLoad({ origin: app.origin, connections: ctx.options.app.connections, durationSeconds: Math.max(settings.warmupSeconds, 0.2), next })
    for (const connections of settings.steps) {
      const before = readProcess(app.child.pid)
      const path = (): string => next().path
      const load = await runUsers({
        origin: app.origin,
        users: connections,
        intervalMs: 1000 / settings.ratePerConnection,
        rampMs: settings.warmupSeconds * 1000,
        windowMs: settings.measureSeconds * 1000,
        next: path
      })
      const usage = usageBetween(before, readProcess(app.child.pid))
      const held = load.errors === 0 && load.latencyP99Ms < settings.p99LimitMs && load.ok > 0
      steps.push({
        connections,
        offeredRequestsPerSecond: connections * settings.ratePerConnection,
        requestsPerSecond: rounded(load.requestsPerSecond, 1),
        latencyP50Ms: rounded(load.latencyP50Ms, 3),
        latencyP99Ms: rounded(load.latencyP99Ms, 3),
        errors: load.errors,
        appCpuPercent: rounded(usage.cpuPercent, 1),
        appRssMiB: rounded(usage.rssMiB, 1),
        generatorDelayP99Ms: rounded(load.generatorDelayP99Ms, 2),
        held
      })
      ctx.log(`${profile.padEnd(9)} ${String(connections).padStart(6)} users × ${settings.ratePerConnection}/s: ${load.requestsPerSecond.toFixed(0)} req/s, ` +
        `p50 ${load.latencyP50Ms.toFixed(2)} ms, p99 ${load.latencyP99Ms.toFixed(2)} ms, errors ${load.errors}, app cpu ${usage.cpuPercent.toFixed(0)}%, ` +
        `generator delay p99 ${load.generatorDelayP99Ms.toFixed(1)} ms → ${held ? 'held' : 'NOT held'}`)
      if (!held) break
    }
  } finally {
    await app.stop()
  }
  const held = steps.filter((s) => s.held)
  return {
    steps,
    maxConnectionsHeld: held.at(-1)?.connections ?? 0,
    limitNotReached: steps.length > 0 && steps.every((s) => s.held)
  }
}
