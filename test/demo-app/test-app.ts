/**
 * Starts the demo app for a test: a fresh database on the test Postgres server, the upstream
 * service on a free port, and `buildApp` with a small seed and a silent logger. Everything is
 * closed in `t.after`.
 */
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../demo-app/app.ts'
import { loadDemoConfig, type DemoConfig } from '../../demo-app/config.ts'
import { startUpstream, type RunningUpstream } from '../../demo-app/upstream/server.ts'
import { startPostgres, type PostgresHandle } from '../support/postgres.ts'

/** What {@link startTestApp} started. */
export interface TestApp {
  app: FastifyInstance
  config: DemoConfig
  pg: PostgresHandle
  upstream: RunningUpstream
}

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** Extra environment for `loadDemoConfig` (strings, as in a real environment). */
  env?: Record<string, string>
  /** A database to use instead of a fresh one (closed by its owner). */
  pg?: PostgresHandle
  /** An upstream to use instead of a fresh one (closed by its owner). */
  upstream?: RunningUpstream
}

/** Builds the demo app against real Postgres with `SEED_ROWS=50`, 2 cores and `LOG_LEVEL=silent` unless `env` says otherwise. */
export async function startTestApp (t: TestContext, options: TestAppOptions = {}): Promise<TestApp> {
  // One hook closing in reverse order of start: the app before the database it uses.
  const cleanups: Array<() => Promise<unknown>> = []
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })
  const pg = options.pg ?? await startPostgres()
  if (options.pg === undefined) cleanups.push(() => pg.close())
  const upstream = options.upstream ?? await startUpstream()
  if (options.upstream === undefined) cleanups.push(() => upstream.close())
  const config = loadDemoConfig({
    DATABASE_URL: pg.url,
    UPSTREAM_URL: upstream.url,
    SEED_ROWS: '50',
    LOG_LEVEL: 'silent',
    ...options.env
  }, { cores: 2 })
  const app = await buildApp(config)
  cleanups.push(() => app.close())
  return { app, config, pg, upstream }
}
