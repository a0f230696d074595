/**
 * The demo app as the benchmark runs it: its own process (`node demo-app/main.ts`), one database
 * per profile, the shared upstream, request logging off (`LOG_LEVEL=warn`) in both profiles.
 */
import type { StatsDocument } from '../contract/stats-v1.ts'
import { startChild, type RunningChild } from './child-service.ts'
import { freePort } from '../test/support/postgres.ts'

/** `optimized` or `baseline`, as `DEMO_PROFILE` takes them. */
export type Profile = 'optimized' | 'baseline'

/** Options of {@link startDemoApp}. */
export interface DemoAppOptions {
  profile: Profile
  databaseUrl: string
  upstreamUrl: string
  seedRows: number
  logDir: string
}

/** A running demo app. */
export interface RunningDemoApp {
  readonly profile: Profile
  readonly origin: string
  readonly port: number
  readonly child: RunningChild
  /** Its `/api/performance/metrics` document. */
  stats (): Promise<StatsDocument>
  stop (): Promise<void>
}

/** Starts the demo app and resolves once `/health` answers 200 (database migrated and seeded). */
export async function startDemoApp (options: DemoAppOptions): Promise<RunningDemoApp> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const child = await startChild({
    name: `demo-app-${options.profile}`,
    args: ['demo-app/main.ts'],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      DEMO_PROFILE: options.profile,
      UPSTREAM_URL: options.upstreamUrl,
      SEED_ROWS: String(options.seedRows),
      // Two log lines per request would cost more than a cached read; both profiles run without them.
      LOG_LEVEL: 'warn',
      OTEL_SERVICE_NAME: `demo-app-${options.profile}`,
      OTEL_TRACES_EXPORTER: 'none'
    },
    logDir: options.logDir,
    readyUrl: `${origin}/health`
  })
  return {
    profile: options.profile,
    origin,
    port,
    child,
    async stats () {
      const response = await fetch(`${origin}/api/performance/metrics`, { signal: AbortSignal.timeout(10_000) })
      if (!response.ok) throw new Error(`${origin}/api/performance/metrics answered ${response.status}`)
      return await response.json() as StatsDocument
    },
    stop: () => child.stop()
  }
}
