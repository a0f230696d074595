/**
 * How long and how hard each benchmark step runs, in the full mode and in the short (smoke) mode,
 * read once from the command line and the environment.
 */
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { REPO_ROOT } from './child-service.ts'

/** Every step, in the order they run. */
export const STEP_NAMES = ['app', 'concurrency', 'overhead', 'peers', 'footprint', 'render'] as const
export type StepName = typeof STEP_NAMES[number]

/** Settings of one run. */
export interface BenchOptions {
  mode: 'full' | 'short'
  /** Steps to run (all by default). */
  steps: ReadonlySet<StepName>
  /** Where the results JSON goes. */
  outFile: string
  /** Rows seeded into each profile's database. */
  seedRows: number
  /** Delay of each upstream answer, in ms. */
  upstreamLatencyMs: number
  app: {
    rounds: number
    connections: number
    warmupSeconds: number
    measureSeconds: number
  }
  concurrency: {
    /** Connection counts to try, ascending; the step stops at the first that fails. */
    steps: number[]
    /** Requests per second each connection sends (a user with ~1 s think time). */
    ratePerConnection: number
    /** Ramp-up before each step's window (users connect), and the cache warm-up before the first step. */
    warmupSeconds: number
    measureSeconds: number
    /** The p99 a step must stay under, in ms. */
    p99LimitMs: number
  }
  overhead: {
    /** Rounds with the agent and without it (each). */
    rounds: number
    connections: number
    warmupSeconds: number
    measureSeconds: number
    intervalSeconds: number
  }
  peers: {
    durationSeconds: number
    warmupSeconds: number
    /** The peers' measurement script. */
    script: string
  }
  footprint: {
    targets: number[]
    intervalsSeconds: number[]
    /** Shortest measured window, in seconds; a window also spans at least `minCycles` intervals. */
    minWindowSeconds: number
    minCycles: number
  }
  render: {
    series: number[]
    samples: number
    warmupSamples: number
  }
}

/** Paths and modes as the command line and environment give them. */
export function parseBenchOptions (argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      short: { type: 'boolean', default: false },
      out: { type: 'string' },
      steps: { type: 'string' },
      help: { type: 'boolean', default: false }
    },
    strict: true
  })
  if (values.help) {
    throw new UsageRequested()
  }
  const short = values.short || env.BENCH_SHORT === '1' || env.BENCH_SHORT === 'true'
  const steps = new Set<StepName>()
  for (const name of (values.steps ?? STEP_NAMES.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(STEP_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--steps: unknown step ${JSON.stringify(name)}; the steps are ${STEP_NAMES.join(', ')}`)
    }
    steps.add(name as StepName)
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')
  const outFile = values.out ?? join(REPO_ROOT, 'bench', 'results', short ? 'short.json' : `${stamp}.json`)
  const script = env.PEERS_FOOTPRINT_SCRIPT ?? join(REPO_ROOT, '..', 'shared', 'tools', 'peers-footprint', 'peers-footprint.sh')

  if (short) {
    return {
      mode: 'short',
      steps,
      outFile,
      seedRows: 10_000,
      upstreamLatencyMs: 2,
      app: { rounds: 1, connections: 20, warmupSeconds: 0.2, measureSeconds: 0.4 },
      concurrency: { steps: [20], ratePerConnection: 5, warmupSeconds: 0.2, measureSeconds: 0.4, p99LimitMs: 100 },
      overhead: { rounds: 1, connections: 20, warmupSeconds: 0.2, measureSeconds: 0.4, intervalSeconds: 1 },
      // The script's own minimum window; its set-up (Postgres, exporters, Prometheus) takes ~10 s more.
      peers: { durationSeconds: 5, warmupSeconds: 0, script },
      footprint: { targets: [1, 10], intervalsSeconds: [1], minWindowSeconds: 1, minCycles: 1 },
      render: { series: [1000, 10_000], samples: 3, warmupSamples: 1 }
    }
  }
  return {
    mode: 'full',
    steps,
    outFile,
    seedRows: 10_000,
    upstreamLatencyMs: 2,
    app: { rounds: 3, connections: 50, warmupSeconds: 3, measureSeconds: 10 },
    concurrency: { steps: [500, 1000, 2000, 4000, 6000, 8000, 10_000, 12_000, 15_000], ratePerConnection: 1, warmupSeconds: 2, measureSeconds: 10, p99LimitMs: 100 },
    overhead: { rounds: 10, connections: 50, warmupSeconds: 1, measureSeconds: 5, intervalSeconds: 1 },
    peers: { durationSeconds: 60, warmupSeconds: 10, script },
    footprint: { targets: [1, 10, 100], intervalsSeconds: [1, 15], minWindowSeconds: 30, minCycles: 3 },
    render: { series: [1000, 10_000, 100_000], samples: 100, warmupSamples: 10 }
  }
}

/** Thrown for `--help`: the caller prints the usage and exits 0. */
export class UsageRequested extends Error {
  constructor () {
    super('usage requested')
  }
}

/** What `--help` prints. */
export const BENCH_USAGE = `Usage: node bench/run.ts [--short] [--out FILE] [--steps ${STEP_NAMES.join(',')}]

  --short        a quick smoke run (seconds, not minutes); also BENCH_SHORT=1
  --out FILE     where to write the results JSON (default bench/results/<date>.json,
                 or bench/results/short.json in the short mode)
  --steps LIST   run only these steps (comma-separated)

Environment: PEERS_FOOTPRINT_SCRIPT overrides the path of peers-footprint.sh.
`
