/** `GET /health`: 200 with headline figures when the database answers, 503 with the reason when not. */
import type { FastifyPluginAsync } from 'fastify'
import type { DemoConfig } from '../config.ts'
import { DemoAppError } from '../errors.ts'

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  config: DemoConfig
}

/** The health route. Needs `app.db`, `app.itemCache` and `app.requestStats`. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { config }) => {
  app.get('/health', async (_request, reply) => {
    const average = app.requestStats.averageSeconds
    const cache = app.itemCache.details()
    const pool = app.db.stats()
    const figures = {
      profile: config.profile,
      uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
      requests: app.requestStats.count,
      averageResponseTimeMs: average === null ? null : Math.round(average * 1e6) / 1e3,
      cacheHitRate: cache.hitRate,
      dbConnectionsInUse: pool.total - pool.idle
    }
    try {
      await app.db.ping(config.db.healthTimeoutMs)
    } catch (error) {
      const code = error instanceof DemoAppError ? error.code : 'DEMO_ERR_DB_UNAVAILABLE'
      const reason = error instanceof Error ? error.message : String(error)
      reply.code(503)
      return { status: 'unavailable', code, reason, database: 'unavailable', ...figures }
    }
    return { status: 'ok', database: 'ok', ...figures }
  })
}
