/**
 * A quote for one item: its live price and stock from the database, and a quote from the upstream.
 * The one route that uses both dependencies in one request, so a single trace shows the request,
 * its query and its outbound call.
 */
import type { FastifyPluginAsync } from 'fastify'
import { ItemStore } from '../db/item-store.ts'
import { DemoAppError } from '../errors.ts'

const INT4_MAX = 2_147_483_647

/**
 * `GET /api/items/:id/quote`. Reads the item from the database, not the cache: a quote must carry
 * the current price and stock. Needs `app.db` and `app.upstream`.
 */
export const itemQuoteRoutes: FastifyPluginAsync = async (app) => {
  const store = new ItemStore(app.db)
  app.get<{ Params: { id: number } }>('/api/items/:id/quote', {
    schema: {
      params: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: { id: { type: 'integer', minimum: 1, maximum: INT4_MAX } }
      }
    }
  }, async (request) => {
    const { id } = request.params
    const item = await store.findById(id)
    if (item === undefined) throw new DemoAppError('DEMO_ERR_ITEM_NOT_FOUND', `item ${id} does not exist`, { field: 'id' })
    const answer = await app.upstream.getJson('/quote')
    return { id: item.id, sku: item.sku, priceCents: item.priceCents, stock: item.stock, upstream: answer.body }
  })
}
