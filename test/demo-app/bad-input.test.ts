import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { InjectOptions } from 'fastify'
import { startTestApp } from './test-app.ts'

const valid = { sku: 'BAD-1', name: 'Lamp', category: 'garden', priceCents: 100 }

/** Each case: the request, the status, and the field the message must name (or a pattern it must match). */
const CASES: Array<{ name: string, request: InjectOptions, status: number, code: string, field?: string, message: RegExp }> = [
  { name: 'invalid JSON', request: { method: 'POST', url: '/api/items', headers: { 'content-type': 'application/json' }, payload: '{"sku": ' }, status: 400, code: 'DEMO_ERR_BAD_REQUEST', message: /not valid JSON/ },
  { name: 'empty JSON body', request: { method: 'POST', url: '/api/items', headers: { 'content-type': 'application/json' }, payload: '' }, status: 400, code: 'DEMO_ERR_BAD_REQUEST', message: /empty|body/i },
  { name: 'JSON array body', request: { method: 'POST', url: '/api/items', payload: [] }, status: 400, code: 'DEMO_ERR_VALIDATION', message: /^body must be object/ },
  { name: 'string for an integer', request: { method: 'POST', url: '/api/items', payload: { ...valid, priceCents: '100' } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'priceCents', message: /^body\.priceCents must be integer, got "100"/ },
  { name: 'number for a string', request: { method: 'POST', url: '/api/items', payload: { ...valid, name: 42 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'name', message: /^body\.name must be string/ },
  { name: 'fraction for an integer', request: { method: 'POST', url: '/api/items', payload: { ...valid, stock: 1.5 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'stock', message: /body\.stock/ },
  { name: 'negative price', request: { method: 'POST', url: '/api/items', payload: { ...valid, priceCents: -1 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'priceCents', message: />= 0/ },
  { name: 'unknown field', request: { method: 'POST', url: '/api/items', payload: { ...valid, colour: 'red' } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'colour', message: /^body\.colour is not a known field/ },
  { name: 'missing field', request: { method: 'POST', url: '/api/items', payload: { name: 'x', category: 'toys', priceCents: 1 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'sku', message: /^body\.sku is required/ },
  { name: 'empty update', request: { method: 'PATCH', url: '/api/items/1', payload: {} }, status: 400, code: 'DEMO_ERR_VALIDATION', message: /^body must NOT have fewer than 1 properties/ },
  { name: 'unknown field on update', request: { method: 'PATCH', url: '/api/items/1', payload: { id: 5 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'id', message: /body\.id is not a known field/ },
  { name: 'not JSON at all', request: { method: 'POST', url: '/api/items', headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, code: 'DEMO_ERR_UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ },
  { name: 'oversized body', request: { method: 'POST', url: '/api/items', payload: { ...valid, name: 'x'.repeat(70_000) } }, status: 413, code: 'DEMO_ERR_BODY_TOO_LARGE', message: /larger than the limit/ },
  { name: 'id not a number', request: { url: '/api/items/abc' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'id', message: /^params\.id must be integer, got "abc"/ },
  { name: 'id zero', request: { url: '/api/items/0' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'id', message: /params\.id must be >= 1/ },
  { name: 'id beyond int4', request: { url: '/api/items/99999999999' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'id', message: /params\.id must be <= 2147483647/ },
  { name: 'unknown id', request: { url: '/api/items/123456' }, status: 404, code: 'DEMO_ERR_ITEM_NOT_FOUND', field: 'id', message: /item 123456/ },
  { name: 'unknown id on update', request: { method: 'PATCH', url: '/api/items/123456', payload: { stock: 1 } }, status: 404, code: 'DEMO_ERR_ITEM_NOT_FOUND', field: 'id', message: /item 123456/ },
  { name: 'limit zero', request: { url: '/api/items?limit=0' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'limit', message: /query\.limit must be >= 1/ },
  { name: 'limit too large', request: { url: '/api/items?limit=101' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'limit', message: /query\.limit must be <= 100/ },
  { name: 'limit not a number', request: { url: '/api/items?limit=ten' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'limit', message: /query\.limit must be integer/ },
  { name: 'negative offset', request: { url: '/api/items?offset=-5' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'offset', message: /query\.offset/ },
  { name: 'repeated limit', request: { url: '/api/items?limit=1&limit=2' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'limit', message: /query\.limit/ },
  { name: 'unknown query parameter', request: { url: '/api/items?page=2' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'page', message: /query\.page is not a known field/ },
  { name: 'bad boolean', request: { url: '/api/items?inStock=maybe' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'inStock', message: /query\.inStock must be boolean/ },
  { name: 'min price above max price', request: { url: '/api/items?minPriceCents=500&maxPriceCents=100' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'maxPriceCents', message: /maxPriceCents/ },
  { name: 'bad upstream delay', request: { url: '/api/upstream/quote?delay=-1' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'delay', message: /query\.delay/ },
  { name: 'unknown route', request: { url: '/api/nothing-here' }, status: 404, code: 'DEMO_ERR_ROUTE_NOT_FOUND', message: /GET \/api\/nothing-here/ },
  { name: 'unknown method', request: { method: 'DELETE', url: '/api/items/1' }, status: 404, code: 'DEMO_ERR_ROUTE_NOT_FOUND', message: /DELETE \/api\/items\/1/ }
]

test('every client mistake is a 4xx JSON error naming the field, never a 500', async (t) => {
  const { app } = await startTestApp(t)
  for (const c of CASES) {
    const res = await app.inject(c.request)
    assert.equal(res.statusCode, c.status, `${c.name}: ${res.body}`)
    assert.match(String(res.headers['content-type']), /^application\/json/, c.name)
    const body = res.json()
    assert.equal(body.statusCode, c.status, c.name)
    assert.equal(typeof body.error, 'string', c.name)
    assert.equal(body.code, c.code, `${c.name}: ${res.body}`)
    assert.match(body.message, c.message, c.name)
    if (c.field !== undefined) assert.equal(body.field, c.field, `${c.name}: ${res.body}`)
  }
  // Nothing above reached the server-error path.
  assert.ok(app.requestStats.routes().every((route) => route.statusClass !== '5xx'))
  assert.equal(app.requestStats.errors, 0)
})

test('the body limit is configurable', async (t) => {
  const { app } = await startTestApp(t, { env: { BODY_LIMIT_BYTES: '2048' } })
  const res = await app.inject({ method: 'POST', url: '/api/items', payload: { ...valid, name: 'x'.repeat(3000) } })
  assert.equal(res.statusCode, 413)
  const ok = await app.inject({ method: 'POST', url: '/api/items', payload: { ...valid, name: 'x'.repeat(150) } })
  assert.equal(ok.statusCode, 201)
})
