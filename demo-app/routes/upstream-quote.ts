/** The route that calls the upstream service through the pooled HTTP client. */
import type { FastifyPluginAsync } from 'fastify'
import { MAX_UPSTREAM_DELAY_MS } from '../upstream/server.ts'

/** `GET /api/upstream/quote`: a quote from the upstream, with `?delay=ms` passed on to it. Needs `app.upstream`. */
export const upstreamQuoteRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { delay?: number } }>('/api/upstream/quote', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { delay: { type: 'integer', minimum: 0, maximum: MAX_UPSTREAM_DELAY_MS } }
      }
    }
  }, async (request, reply) => {
    // The upstream call stops when the client goes away instead of running to its deadline.
    const abandoned = new AbortController()
    const onClose = (): void => { if (!reply.raw.writableFinished) abandoned.abort() }
    reply.raw.once('close', onClose)
    const query: Record<string, string> = request.query.delay === undefined ? {} : { delay: String(request.query.delay) }
    try {
      const answer = await app.upstream.getJson('/quote', query, abandoned.signal)
      return { upstream: answer.body, durationMs: Math.round(answer.durationSeconds * 1e6) / 1e3 }
    } finally {
      reply.raw.off('close', onClose)
    }
  })
}
