import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestApp } from './test-app.ts'

test('GET /api/items/:id/quote reads the live item from the database and a quote from the upstream', async (t) => {
  const { app, upstream } = await startTestApp(t)
  const before = upstream.requests
  await app.inject({ method: 'GET', url: '/api/items/3' })
  const patched = await app.inject({ method: 'PATCH', url: '/api/items/3', payload: { stock: 77 } })
  assert.equal(patched.statusCode, 200)
  const res = await app.inject('/api/items/3/quote')
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.id, 3)
  assert.equal(body.stock, 77)
  assert.equal(body.upstream.service, 'upstream')
  assert.equal(upstream.requests, before + 1)
  const cache = app.itemCache.stats()
  assert.equal(cache.hits, 0, 'a quote never reads the cache')
})

test('GET /api/items/:id/quote: an unknown item is a 404 naming the id, and the upstream is not called', async (t) => {
  const { app, upstream } = await startTestApp(t)
  const before = upstream.requests
  const res = await app.inject('/api/items/999999/quote')
  assert.equal(res.statusCode, 404)
  assert.match(res.json().message, /item 999999/)
  assert.equal(upstream.requests, before)
  assert.equal((await app.inject('/api/items/abc/quote')).statusCode, 400)
})
