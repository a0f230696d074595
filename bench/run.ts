/**
 * `npm run bench`: measures the demo app's profiles against each other and against a bare fastify
 * ceiling, how many users the optimized app holds, and what the agent costs (on the app, against
 * the exporters it replaces, and as targets and series grow). Prints progress, a table at the end,
 * and writes every figure with the machine's description to a JSON file under bench/results/.
 *
 *   node bench/run.ts            the full run (about 20 minutes on 2 cores)
 *   node bench/run.ts --short    a smoke run of every step (well under a minute)
 *
 * Exit codes: 0 when every step ran (missed targets are results, not failures), 1 when a step
 * failed, 2 on bad usage.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { BENCH_USAGE, parseBenchOptions, UsageRequested, type BenchOptions, type StepName } from './bench-options.ts'
import type { BenchContext } from './bench-context.ts'
import { startBenchPostgres, type BenchPostgres } from './bench-postgres.ts'
import { REPO_ROOT, startChild, type RunningChild } from './child-service.ts'
import { describeMachine } from './machine.ts'
import { renderReport } from './report.ts'
import { RESULTS_SCHEMA, type BenchResults, type StepOutcome } from './results.ts'
import { evaluateTargets } from './targets.ts'
import { runAgentFootprint } from './steps/agent-footprint.ts'
import { runAgentOverhead } from './steps/agent-overhead.ts'
import { runAppProfiles } from './steps/app-profiles.ts'
import { runConcurrency } from './steps/concurrency.ts'
import { runMetricsRender } from './steps/metrics-render.ts'
import { runPeers } from './steps/peers.ts'
import { freePort } from '../test/support/postgres.ts'

let options: BenchOptions
try {
  options = parseBenchOptions(process.argv.slice(2), process.env)
} catch (error) {
  if (error instanceof UsageRequested) {
    process.stdout.write(BENCH_USAGE)
    process.exit(0)
  }
  process.stderr.write(`${(error as Error).message}\n\n${BENCH_USAGE}`)
  process.exit(2)
}

const started = Date.now()
const log = (line: string): void => {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  process.stdout.write(`[bench ${elapsed}s] ${line}\n`)
}
const logDir = await mkdtemp(join(tmpdir(), 'outrigger-bench-'))
log(`${options.mode} run; children's logs and configs in ${logDir}`)

let postgres: Promise<BenchPostgres> | undefined
let upstream: Promise<{ child: RunningChild, url: string }> | undefined
const ctx: BenchContext = {
  options,
  log,
  logDir,
  postgres: () => {
    postgres ??= (async () => {
      log('starting Postgres (dedicated server, pg_stat_statements)')
      return await startBenchPostgres(log)
    })()
    return postgres
  },
  upstreamUrl: async () => {
    upstream ??= (async () => {
      const port = await freePort()
      const url = `http://127.0.0.1:${port}`
      log(`starting the upstream service (answers after ${options.upstreamLatencyMs} ms)`)
      const child = await startChild({
        name: 'upstream',
        args: ['demo-app/upstream/main.ts'],
        env: { PORT: String(port), UPSTREAM_LATENCY_MS: String(options.upstreamLatencyMs) },
        logDir,
        readyUrl: `${url}/health`
      })
      return { child, url }
    })()
    return (await upstream).url
  }
}

const machine = describeMachine()
log(`machine: ${machine.cores} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`)

const steps: Array<{ name: StepName, title: string, run: () => Promise<unknown> }> = [
  { name: 'app', title: 'steps 1–2: demo app baseline vs optimized, and the hello-world ceiling', run: () => runAppProfiles(ctx) },
  { name: 'concurrency', title: 'step 3: concurrent users the optimized app holds', run: () => runConcurrency(ctx) },
  { name: 'overhead', title: 'step 4: agent overhead on the app', run: () => runAgentOverhead(ctx) },
  { name: 'peers', title: 'step 5: agent against the peers it replaces', run: () => runPeers(ctx) },
  { name: 'footprint', title: 'step 6: agent footprint and scale', run: () => runAgentFootprint(ctx) },
  { name: 'render', title: 'step 6: /metrics render time', run: () => runMetricsRender(ctx) }
]

const outcomes: Partial<Record<StepName, StepOutcome<unknown>>> = {}
let failed = false
for (const step of steps) {
  if (!options.steps.has(step.name)) {
    outcomes[step.name] = { status: 'skipped', reason: 'not selected with --steps' }
    continue
  }
  log(`== ${step.title} (load ${machine.loadNow().join(' ')})`)
  const stepStarted = Date.now()
  try {
    const result = await step.run()
    outcomes[step.name] = isSkip(result) ? result : { status: 'measured', loadAverage: machine.loadNow(), seconds: Math.round((Date.now() - stepStarted) / 1000), result }
  } catch (error) {
    failed = true
    log(`step ${step.name} FAILED: ${(error as Error).stack ?? String(error)}`)
    outcomes[step.name] = { status: 'failed', reason: (error as Error).message }
  }
}

try {
  await (await upstream)?.child.stop()
} catch {
  // the upstream never started
}
try {
  await (await postgres)?.close()
} catch {
  // Postgres never started
}

const results: BenchResults = {
  schema: RESULTS_SCHEMA,
  mode: options.mode,
  command: `node bench/run.ts${options.mode === 'short' ? ' --short' : ''}`,
  startedAt: new Date(started).toISOString(),
  finishedAt: new Date().toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: { ...machine.snapshot(), loadAverageAtEnd: machine.loadNow() },
  steps: outcomes as BenchResults['steps'],
  targets: []
}
results.targets = evaluateTargets(results)

await mkdir(dirname(options.outFile), { recursive: true })
await writeFile(options.outFile, `${JSON.stringify(results, null, 2)}\n`)
process.stdout.write(`\n${renderReport(results)}\n`)
log(`results written to ${relative(REPO_ROOT, options.outFile) || options.outFile}`)
process.exitCode = failed ? 1 : 0

function isSkip (value: unknown): value is StepOutcome<unknown> {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'skipped'
}
