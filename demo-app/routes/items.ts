/**
 * The catalogue API over Postgres: read one item (through the cache), list with filters and
 * pagination, create, and update (which invalidates the cached item).
 */
import type { FastifyPluginAsync } from 'fastify'
import { ItemStore, type ItemInput, type ItemQuery } from '../db/item-store.ts'
import { DemoAppError } from '../errors.ts'

const INT4_MAX = 2_147_483_647

const itemIdSchema = { type: 'integer', minimum: 1, maximum: INT4_MAX } as const

const idParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: itemIdSchema }
} as const

/** Postgres text cannot hold NUL: free text holding one is a client's mistake (400), not a failed insert (500). */
const NO_NUL = '^[^\\u0000]*$'

const writableFields = {
  sku: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
  // Something besides white space, and no NUL.
  name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^(?=[\\s\\S]*\\S)[^\\u0000]*$' },
  category: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' },
  priceCents: { type: 'integer', minimum: 0, maximum: INT4_MAX },
  stock: { type: 'integer', minimum: 0, maximum: INT4_MAX }
} as const

const itemSchema = {
  type: 'object',
  required: ['id', 'sku', 'name', 'category', 'priceCents', 'stock', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    sku: { type: 'string' },
    name: { type: 'string' },
    category: { type: 'string' },
    priceCents: { type: 'integer' },
    stock: { type: 'integer' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' }
  }
} as const

const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    category: writableFields.category,
    q: { type: 'string', minLength: 1, maxLength: 100, pattern: NO_NUL },
    minPriceCents: writableFields.priceCents,
    maxPriceCents: writableFields.priceCents,
    inStock: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 }
  }
} as const

/** Routes under `/api/items`. Needs `app.db` and `app.itemCache`. */
export const itemRoutes: FastifyPluginAsync = async (app) => {
  const store = new ItemStore(app.db)

  app.get<{ Params: { id: number } }>('/api/items/:id', {
    schema: { params: idParamsSchema, response: { 200: itemSchema } }
  }, async (request) => {
    const { id } = request.params
    const item = await app.itemCache.get(id, (key) => store.findById(key))
    if (item === undefined) throw new DemoAppError('DEMO_ERR_ITEM_NOT_FOUND', `item ${id} does not exist`, { field: 'id' })
    return item
  })

  app.get<{ Querystring: ItemQuery }>('/api/items', {
    schema: {
      querystring: listQuerySchema,
      response: {
        200: {
          type: 'object',
          required: ['items', 'total', 'limit', 'offset'],
          properties: { items: { type: 'array', items: itemSchema }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } }
        }
      }
    }
  }, async (request) => {
    const query = request.query
    if (query.minPriceCents !== undefined && query.maxPriceCents !== undefined && query.minPriceCents > query.maxPriceCents) {
      throw new DemoAppError('DEMO_ERR_VALIDATION',
        `query.maxPriceCents must be at least minPriceCents (${query.minPriceCents}), got ${query.maxPriceCents}`, { field: 'maxPriceCents' })
    }
    return await store.list(query)
  })

  app.post<{ Body: ItemInput }>('/api/items', {
    schema: {
      body: { type: 'object', additionalProperties: false, required: ['sku', 'name', 'category', 'priceCents'], properties: writableFields },
      response: { 201: itemSchema }
    }
  }, async (request, reply) => {
    const item = await store.create(request.body)
    reply.code(201).header('location', `/api/items/${item.id}`)
    return item
  })

  app.patch<{ Params: { id: number }, Body: Partial<ItemInput> }>('/api/items/:id', {
    schema: {
      params: idParamsSchema,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: writableFields },
      response: { 200: itemSchema }
    }
  }, async (request) => {
    const { id } = request.params
    let item
    try {
      item = await store.update(id, request.body)
    } finally {
      // Even a failed update may have committed before the connection broke: drop the cached copy.
      app.itemCache.invalidate(id)
    }
    if (item === undefined) throw new DemoAppError('DEMO_ERR_ITEM_NOT_FOUND', `item ${id} does not exist`, { field: 'id' })
    return item
  })
}
