/**
 * The demo app's composition root: infrastructure plugins (error responses, request stats, the
 * Postgres pool, the item cache, the upstream client), then the schema and seed step, then the
 * routes as encapsulated plugins. It never listens: `main.ts` does, tests use `inject()`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginCallback } from 'fastify'
import packageJson from '../package.json' with { type: 'json' }
import type { DemoConfig } from './config.ts'
import { runMigrations } from './db/migrations.ts'
import { seedCatalogue } from './db/seed.ts'
import { DemoAppError } from './errors.ts'
import { connectionDrainingPlugin } from './plugins/connection-draining.ts'
import { dbPoolPlugin } from './plugins/db-pool.ts'
import { errorResponsesPlugin, frameworkErrorResponse } from './plugins/error-responses.ts'
import { itemCachePlugin } from './plugins/item-cache.ts'
import { requestStatsPlugin } from './plugins/request-stats.ts'
import { upstreamClientPlugin } from './plugins/upstream-client.ts'
import { cacheStatsRoutes } from './routes/cache-stats.ts'
import { healthRoutes } from './routes/health.ts'
import { itemQuoteRoutes } from './routes/item-quote.ts'
import { itemRoutes } from './routes/items.ts'
import { performanceMetricsRoutes } from './routes/performance-metrics.ts'
import { upstreamQuoteRoutes } from './routes/upstream-quote.ts'

/** The version reported in the stats document. */
export const DEMO_APP_VERSION: string = packageJson.version

/** Options of {@link buildApp} that are not configuration. */
export interface BuildAppOptions {
  /** A pino logger to use instead of one built from `config.logLevel` (tests pass a silent one). */
  logger?: FastifyBaseLogger
  /** Request spans (`DemoTracing.fastifyPlugin` from `tracing.ts`), registered before everything else. */
  tracingPlugin?: FastifyPluginCallback
}

/**
 * Builds the app: connects the pool (opening the warm connections), runs the migrations and the
 * seed step, and registers every route. It does not listen.
 * @throws DemoAppError `DEMO_ERR_CONFIG_INVALID` when `config.databaseUrl` is unset (`main.ts`
 *   resolves the embedded database first); `DEMO_ERR_DB_UNAVAILABLE` when the database is
 *   unreachable; a `pg` error when a migration fails. Whatever was opened is closed first.
 */
export async function buildApp (config: DemoConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const databaseUrl = config.databaseUrl
  if (databaseUrl === undefined) {
    throw new DemoAppError('DEMO_ERR_CONFIG_INVALID', 'buildApp needs config.databaseUrl; main.ts starts the embedded database when DATABASE_URL is unset')
  }
  const app = Fastify({
    ...(options.logger === undefined
      ? { logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] } }
      : { loggerInstance: options.logger }),
    bodyLimit: config.bodyLimitBytes,
    // A URL fastify cannot route (bad percent-encoding, a parameter over its length limit) gets the
    // app's own 4xx error body too.
    frameworkErrors: frameworkErrorResponse,
    // While closing, new requests get a 503 at once and in-flight ones finish.
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  }) as unknown as FastifyInstance

  try {
    // The API speaks JSON only: any other body is a 415, not a string that fails validation later.
    app.removeContentTypeParser('text/plain')
    // First, so that every later plugin's hooks and every route run inside the request span.
    if (options.tracingPlugin !== undefined) await app.register(options.tracingPlugin)
    await app.register(errorResponsesPlugin)
    await app.register(requestStatsPlugin)
    await app.register(connectionDrainingPlugin)
    await app.register(dbPoolPlugin, { ...config.db, connectionString: databaseUrl, applicationName: config.serviceName })
    await app.register(itemCachePlugin, config.cache)
    await app.register(upstreamClientPlugin, config.upstream)
    await app.register(async function prepareDatabase (instance) {
      const applied = await runMigrations(instance.db)
      const seeded = await seedCatalogue(instance.db, config.seedRows)
      instance.log.info({ migrationsApplied: applied, rowsSeeded: seeded }, 'database ready')
    })

    await app.register(healthRoutes, { config })
    await app.register(performanceMetricsRoutes, { serviceName: config.serviceName, version: DEMO_APP_VERSION, profile: config.profile })
    await app.register(cacheStatsRoutes)
    await app.register(itemRoutes)
    await app.register(upstreamQuoteRoutes)
    await app.register(itemQuoteRoutes)
    await app.ready()
  } catch (error) {
    // Closes whatever the plugins opened before the failure (the pool's warm connections).
    await app.close().catch(() => {})
    throw error
  }
  return app
}
