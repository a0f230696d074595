/** `GET /api/performance/metrics`: the app's statistics as an `outrigger.stats/v1` document. */
import type { FastifyPluginAsync } from 'fastify'
import { STATS_SCHEMA_V1, type StatsDocument } from '../../contract/stats-v1.ts'

/** Identity fields of the document. */
export interface PerformanceMetricsOptions {
  serviceName: string
  version: string
  profile: string
}

/** The stats route. Needs `app.requestStats`, `app.itemCache`, `app.db` and `app.upstream`. */
export const performanceMetricsRoutes: FastifyPluginAsync<PerformanceMetricsOptions> = async (app, options) => {
  // Process start, from the clock now minus uptime: stable for the life of the process.
  const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime())
  app.get('/api/performance/metrics', async (): Promise<StatsDocument> => ({
    schema: STATS_SCHEMA_V1,
    service: { name: options.serviceName, version: options.version, profile: options.profile },
    pid: process.pid,
    startTimeSeconds,
    http: { inFlight: app.requestStats.inFlight, routes: app.requestStats.routes() },
    caches: { [app.itemCache.name]: app.itemCache.stats() },
    dbPools: { main: app.db.stats() },
    httpClients: { upstream: app.upstream.stats() }
  }))
}
