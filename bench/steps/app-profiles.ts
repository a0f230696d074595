/**
 * Steps 1 and 2: the demo app's baseline and optimized profiles under the same workloads, and the
 * ceiling (a bare fastify hello world), in alternating rounds so that background noise and drift
 * hit every contestant alike. Ratios are taken round by round, then their median.
 */
import type { BenchContext } from '../bench-context.ts'
import type { BenchPostgres } from '../bench-postgres.ts'
import { startChild } from '../child-service.ts'
import { startDemoApp, type Profile, type RunningDemoApp } from '../demo-app-process.ts'
import { runLoad, type LoadResult } from '../load-generator.ts'
import { readProcess, usageBetween } from '../process-meter.ts'
import { SCENARIOS, type Scenario } from '../scenarios.ts'
import { median, rounded } from '../statistics.ts'
import { freePort } from '../../test/support/postgres.ts'
import type { StatsDocument } from '../../contract/stats-v1.ts'

/** What one measured window of one app showed. Null where a figure does not apply. */
export interface AppFigures {
  requestsPerSecond: number | null
  latencyP50Ms: number | null
  latencyP99Ms: number | null
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number
  /** Resident memory at the end of the window. */
  rssMiB: number | null
  /** CPU of the app process, % of one core. */
  cpuPercent: number | null
  /** CPU of the Postgres server (all its processes), % of one core; null where it cannot be read. */
  dbCpuPercent: number | null
  /** Requests answered per CPU second of the app and its database together: the "CPU efficiency". */
  requestsPerCpuSecond: number | null
  /** Cache hits / lookups in the window; null when the app has no cache (baseline). */
  cacheHitRate: number | null
  /** Statements the database executed per request answered. */
  dbStatementsPerRequest: number | null
  /** Mean execution time of a statement inside Postgres (pg_stat_statements), in ms. */
  dbStatementMeanMs: number | null
  /** Database execution time per request answered, in ms (0 for a cache hit). */
  dbTimePerRequestMs: number | null
  /** Mean time to get a pooled connection, in ms. */
  poolAcquireMeanMs: number | null
}

/** Figures per round and their medians. */
export interface ContestantResult {
  rounds: AppFigures[]
  median: AppFigures
}

/** Optimized / baseline, the median of the per-round ratios. */
export interface ProfileRatios {
  throughput: number | null
  latencyP50: number | null
  latencyP99: number | null
  rss: number | null
  cpu: number | null
  requestsPerCpuSecond: number | null
}

export interface ScenarioResult {
  name: Scenario['name']
  description: string
  baseline: ContestantResult
  optimized: ContestantResult
  ratio: ProfileRatios
}

export interface AppStepResult {
  rounds: number
  connections: number
  warmupSeconds: number
  measureSeconds: number
  scenarios: ScenarioResult[]
  helloWorld: ContestantResult
  /** Optimized cached read (hot keys) throughput as a fraction of hello world's, median per round. */
  cachedReadOfCeiling: number | null
  /** The same for the Zipf key spread. */
  cachedReadSpreadOfCeiling: number | null
  /**
   * Optimized cached read (hot keys) requests per CPU second / hello world's, median per round.
   * On a machine where the load generator shares the cores, both throughputs can be capped by the
   * load generator; CPU per request is not.
   */
  cachedReadCpuEfficiencyOfCeiling: number | null
}

type Contestant = Profile | 'hello-world'

const FIGURE_KEYS = ['requestsPerSecond', 'latencyP50Ms', 'latencyP99Ms', 'errors', 'rssMiB', 'cpuPercent', 'dbCpuPercent', 'requestsPerCpuSecond',
  'cacheHitRate', 'dbStatementsPerRequest', 'dbStatementMeanMs', 'dbTimePerRequestMs', 'poolAcquireMeanMs'] as const

/** Runs steps 1 and 2. */
export async function runAppProfiles (ctx: BenchContext): Promise<AppStepResult> {
  const { options } = ctx
  const settings = options.app
  const postgres = await ctx.postgres()
  const upstreamUrl = await ctx.upstreamUrl()
  const databases: Record<Profile, string> = { baseline: 'bench_baseline', optimized: 'bench_optimized' }
  const figures = new Map<string, AppFigures[]>()
  const push = (contestant: Contestant, scenario: string, value: AppFigures): void => {
    const key = `${contestant}/${scenario}`
    figures.set(key, [...(figures.get(key) ?? []), value])
  }

  const contestants: Contestant[] = ['baseline', 'optimized', 'hello-world']
  for (let round = 0; round < settings.rounds; round++) {
    // Each round starts with a different contestant, so none always runs first or last.
    const order = contestants.map((_, i) => contestants[(i + round) % contestants.length] as Contestant)
    for (const contestant of order) {
      if (contestant === 'hello-world') {
        const result = await measureHelloWorld(ctx)
        ctx.log(`round ${round + 1}/${settings.rounds} hello-world: ${describe(result)}`)
        push(contestant, 'hello', result)
        continue
      }
      const app = await startDemoApp({
        profile: contestant,
        databaseUrl: await postgres.databaseUrl(databases[contestant]),
        upstreamUrl,
        seedRows: options.seedRows,
        logDir: ctx.logDir
      })
      try {
        for (const scenario of SCENARIOS) {
          const result = await measureScenario(ctx, app, scenario, postgres, databases[contestant])
          ctx.log(`round ${round + 1}/${settings.rounds} ${contestant.padEnd(9)} ${scenario.name.padEnd(11)}: ${describe(result)}`)
          push(contestant, scenario.name, result)
        }
      } finally {
        await app.stop()
      }
    }
  }

  const contestantResult = (contestant: Contestant, scenario: string): ContestantResult => {
    const rounds = figures.get(`${contestant}/${scenario}`) ?? []
    return { rounds, median: medianFigures(rounds) }
  }
  const scenarios = SCENARIOS.map((scenario): ScenarioResult => {
    const baseline = contestantResult('baseline', scenario.name)
    const optimized = contestantResult('optimized', scenario.name)
    return { name: scenario.name, description: scenario.description, baseline, optimized, ratio: ratios(baseline.rounds, optimized.rounds) }
  })
  const helloWorld = contestantResult('hello-world', 'hello')
  const ofCeiling = (scenario: string, key: 'requestsPerSecond' | 'requestsPerCpuSecond' = 'requestsPerSecond'): number | null => {
    const reads = figures.get(`optimized/${scenario}`) ?? []
    return rounded(median(reads.map((read, i) => (read[key] ?? NaN) / (helloWorld.rounds[i]?.[key] ?? NaN)).filter(Number.isFinite)), 3)
  }
  return {
    rounds: settings.rounds,
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    measureSeconds: settings.measureSeconds,
    scenarios,
    helloWorld,
    cachedReadOfCeiling: ofCeiling('read-hot'),
    cachedReadSpreadOfCeiling: ofCeiling('read-spread'),
    cachedReadCpuEfficiencyOfCeiling: ofCeiling('read-hot', 'requestsPerCpuSecond')
  }
}

function describe (f: AppFigures): string {
  const parts = [`${f.requestsPerSecond?.toFixed(0) ?? '-'} req/s`, `p50 ${f.latencyP50Ms?.toFixed(2) ?? '-'} ms`, `p99 ${f.latencyP99Ms?.toFixed(2) ?? '-'} ms`,
    `cpu ${f.cpuPercent?.toFixed(0) ?? '-'}%${f.dbCpuPercent === null ? '' : ` + db ${f.dbCpuPercent.toFixed(0)}%`}`, `rss ${f.rssMiB?.toFixed(0) ?? '-'} MiB`]
  if (f.cacheHitRate !== null) parts.push(`hit ${(f.cacheHitRate * 100).toFixed(1)}%`)
  if (f.dbStatementMeanMs !== null) parts.push(`db ${f.dbStatementMeanMs.toFixed(3)} ms/stmt`)
  if (f.errors > 0) parts.push(`ERRORS ${f.errors}`)
  return parts.join(', ')
}

async function measureScenario (ctx: BenchContext, app: RunningDemoApp, scenario: Scenario, postgres: BenchPostgres, database: string): Promise<AppFigures> {
  const { connections, warmupSeconds, measureSeconds } = ctx.options.app
  const next = scenario.requests(ctx.options.seedRows)
  if (warmupSeconds > 0) await runLoad({ origin: app.origin, connections, durationSeconds: warmupSeconds, next })
  const statsBefore = await app.stats()
  await postgres.resetStatements()
  const before = readProcess(app.child.pid)
  const dbBefore = postgres.serverCpuSeconds()
  const load = await runLoad({ origin: app.origin, connections, durationSeconds: measureSeconds, next })
  const after = readProcess(app.child.pid)
  const dbAfter = postgres.serverCpuSeconds()
  const statements = await postgres.statementTotals(database)
  const statsAfter = await app.stats()
  const usage = usageBetween(before, after)
  const dbCpuSeconds = dbBefore === undefined || dbAfter === undefined ? undefined : dbAfter - dbBefore
  return appFigures(load, usage, dbCpuSeconds, statsBefore, statsAfter, statements)
}

function appFigures (load: LoadResult, usage: ReturnType<typeof usageBetween>, dbCpuSeconds: number | undefined, before: StatsDocument, after: StatsDocument,
  statements: { calls: number, totalExecMs: number } | undefined): AppFigures {
  const cacheBefore = before.caches.items
  const cacheAfter = after.caches.items
  const hits = (cacheAfter?.hits ?? 0) - (cacheBefore?.hits ?? 0)
  const misses = (cacheAfter?.misses ?? 0) - (cacheBefore?.misses ?? 0)
  const poolBefore = before.dbPools.main?.acquireSeconds
  const poolAfter = after.dbPools.main?.acquireSeconds
  const acquires = (poolAfter?.count ?? 0) - (poolBefore?.count ?? 0)
  const acquireSeconds = (poolAfter?.sum ?? 0) - (poolBefore?.sum ?? 0)
  const cpuSeconds = usage.cpuSeconds + (dbCpuSeconds ?? 0)
  return {
    requestsPerSecond: rounded(load.requestsPerSecond, 1),
    latencyP50Ms: rounded(load.latencyP50Ms, 3),
    latencyP99Ms: rounded(load.latencyP99Ms, 3),
    errors: load.errors + load.timeouts + load.non2xx,
    rssMiB: rounded(usage.rssMiB, 1),
    cpuPercent: rounded(usage.cpuPercent, 1),
    dbCpuPercent: dbCpuSeconds === undefined || usage.windowSeconds <= 0 ? null : rounded((dbCpuSeconds / usage.windowSeconds) * 100, 1),
    requestsPerCpuSecond: cpuSeconds > 0 ? rounded(load.ok / cpuSeconds, 0) : null,
    cacheHitRate: hits + misses > 0 ? rounded(hits / (hits + misses), 4) : null,
    dbStatementsPerRequest: statements === undefined || load.ok === 0 ? null : rounded(statements.calls / load.ok, 4),
    dbStatementMeanMs: statements === undefined || statements.calls === 0 ? null : rounded(statements.totalExecMs / statements.calls, 4),
    dbTimePerRequestMs: statements === undefined || load.ok === 0 ? null : rounded(statements.totalExecMs / load.ok, 4),
    poolAcquireMeanMs: acquires > 0 ? rounded((acquireSeconds / acquires) * 1000, 4) : null
  }
}

async function measureHelloWorld (ctx: BenchContext): Promise<AppFigures> {
  const { connections, warmupSeconds, measureSeconds } = ctx.options.app
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const child = await startChild({ name: 'hello-world', args: ['bench/hello-world.ts'], env: { PORT: String(port) }, logDir: ctx.logDir, readyUrl: origin })
  try {
    if (warmupSeconds > 0) await runLoad({ origin, connections, durationSeconds: warmupSeconds })
    const before = readProcess(child.pid)
    const load = await runLoad({ origin, connections, durationSeconds: measureSeconds })
    const usage = usageBetween(before, readProcess(child.pid))
    return {
      requestsPerSecond: rounded(load.requestsPerSecond, 1),
      latencyP50Ms: rounded(load.latencyP50Ms, 3),
      latencyP99Ms: rounded(load.latencyP99Ms, 3),
      errors: load.errors + load.timeouts + load.non2xx,
      rssMiB: rounded(usage.rssMiB, 1),
      cpuPercent: rounded(usage.cpuPercent, 1),
      dbCpuPercent: null,
      requestsPerCpuSecond: usage.cpuSeconds > 0 ? rounded(load.ok / usage.cpuSeconds, 0) : null,
      cacheHitRate: null,
      dbStatementsPerRequest: null,
      dbStatementMeanMs: null,
      dbTimePerRequestMs: null,
      poolAcquireMeanMs: null
    }
  } finally {
    await child.stop()
  }
}

/** The median of each figure over the rounds (errors are summed). */
function medianFigures (rounds: readonly AppFigures[]): AppFigures {
  const result: Record<string, number | null> = {}
  for (const key of FIGURE_KEYS) {
    if (key === 'errors') {
      result[key] = rounds.reduce((sum, r) => sum + r.errors, 0)
      continue
    }
    const values = rounds.map((r) => r[key]).filter((v): v is number => v !== null)
    result[key] = values.length === 0 ? null : rounded(median(values), 4)
  }
  return result as unknown as AppFigures
}

function ratios (baseline: readonly AppFigures[], optimized: readonly AppFigures[]): ProfileRatios {
  const of = (key: keyof AppFigures): number | null => {
    const perRound: number[] = []
    for (let i = 0; i < Math.min(baseline.length, optimized.length); i++) {
      const b = baseline[i]?.[key]
      const o = optimized[i]?.[key]
      if (typeof b === 'number' && typeof o === 'number' && b > 0) perRound.push(o / b)
    }
    return perRound.length === 0 ? null : rounded(median(perRound), 3)
  }
  return {
    throughput: of('requestsPerSecond'),
    latencyP50: of('latencyP50Ms'),
    latencyP99: of('latencyP99Ms'),
    rss: of('rssMiB'),
    cpu: of('cpuPercent'),
    requestsPerCpuSecond: of('requestsPerCpuSecond')
  }
}
