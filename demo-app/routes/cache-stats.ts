/** `GET /api/cache/stats`: the item cache's counters, settings and hit rate. */
import type { FastifyPluginAsync } from 'fastify'

/** The cache statistics route. Needs `app.itemCache`. */
export const cacheStatsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/cache/stats', async () => app.itemCache.details())
}
