import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import schema from '../../contract/outrigger.stats.v1.schema.json' with { type: 'json' }
import type { StatsDocument, StatsRoute } from '../../contract/stats-v1.ts'
import { LATENCY_BUCKETS_SECONDS } from '../../demo-app/histogram.ts'
import { UNMATCHED_ROUTE } from '../../demo-app/plugins/request-stats.ts'
import { startTestApp } from './test-app.ts'

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema)

function assertValid (document: unknown): void {
  const ok = validate(document)
  assert.ok(ok, JSON.stringify(validate.errors, null, 2))
}

for (const profile of ['optimized', 'baseline'] as const) {
  test(`${profile}: /api/performance/metrics validates against the JSON Schema and reports its profile`, async (t) => {
    const { app } = await startTestApp(t, { env: { DEMO_PROFILE: profile } })
    assertValid((await app.inject('/api/performance/metrics')).json())

    // After traffic on every kind of route, it is still valid and carries every part.
    await app.inject('/api/items/1')
    await app.inject('/api/items/1')
    await app.inject('/api/items?limit=3')
    await app.inject('/api/upstream/quote')
    await app.inject('/api/items/0')
    await app.inject('/health')
    const res = await app.inject('/api/performance/metrics')
    assert.equal(res.statusCode, 200)
    const doc = res.json()
    assertValid(doc)
    assert.equal(doc.schema, 'outrigger.stats/v1')
    assert.equal(doc.service.profile, profile)
    assert.equal(doc.service.name, 'demo-app')
    assert.equal(doc.pid, process.pid)
    assert.ok(doc.startTimeSeconds <= Date.now() / 1000)
    assert.deepEqual(Object.keys(doc.caches), ['items'])
    assert.deepEqual(Object.keys(doc.dbPools), ['main'])
    assert.deepEqual(Object.keys(doc.httpClients), ['upstream'])
    assert.equal(doc.dbPools.main.max, profile === 'optimized' ? 8 : 10)
    assert.equal(doc.httpClients.upstream.requests, 1)
    if (profile === 'optimized') {
      assert.equal(doc.caches.items.hits, 1)
      assert.equal(doc.caches.items.misses, 1)
      assert.equal(doc.caches.items.maxEntries, 10_000)
    } else {
      assert.equal(doc.caches.items.hits, 0)
      assert.equal(doc.caches.items.maxEntries, 0)
    }
  })
}

test('request metrics: by route template, method and status class, with the SLO bucket boundaries', async (t) => {
  const { app } = await startTestApp(t)
  for (const id of [1, 2, 3]) await app.inject(`/api/items/${id}`)
  await app.inject('/api/items/999')
  await app.inject('/api/items/zero')
  await app.inject('/no/such/route/1')
  await app.inject('/no/such/route/2')
  await app.inject({ method: 'POST', url: '/api/items', payload: { sku: 'M-1', name: 'n', category: 'toys', priceCents: 1 } })

  const doc = (await app.inject('/api/performance/metrics')).json()
  const routes = (doc as StatsDocument).http.routes
  const find = (route: string, method: string, statusClass: string): StatsRoute | undefined =>
    routes.find((r) => r.route === route && r.method === method && r.statusClass === statusClass)

  assert.equal(find('/api/items/:id', 'GET', '2xx')?.durationSeconds.count, 3)
  assert.equal(find('/api/items/:id', 'GET', '4xx')?.durationSeconds.count, 2, 'the 404 and the 400')
  assert.equal(find(UNMATCHED_ROUTE, 'GET', '4xx')?.durationSeconds.count, 2, 'unmatched URLs share one label')
  assert.equal(find('/api/items', 'POST', '2xx')?.durationSeconds.count, 1)
  assert.ok(routes.every((r) => !/\d/.test(r.route)), 'no concrete ids or URLs as labels')

  const histogram = find('/api/items/:id', 'GET', '2xx')?.durationSeconds
  assert.ok(histogram !== undefined)
  const bounds = histogram.buckets.map((b) => b.le)
  for (const le of [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) assert.ok(bounds.includes(le), `bucket ${le}`)
  assert.deepEqual(bounds, [...LATENCY_BUCKETS_SECONDS])
  const counts = histogram.buckets.map((b) => b.count)
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'cumulative')
  assert.ok((counts.at(-1) ?? 0) <= histogram.count)
  assert.ok(histogram.sum > 0)
  assert.equal(doc.http.inFlight, 1, 'only the stats request itself')
})

test('GET /api/cache/stats shows the cache counters and settings', async (t) => {
  const { app } = await startTestApp(t)
  await app.inject('/api/items/5')
  await app.inject('/api/items/5')
  const res = await app.inject('/api/cache/stats')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), {
    name: 'items',
    enabled: true,
    hits: 1,
    misses: 1,
    sets: 1,
    evictions: 0,
    entries: 1,
    bytes: res.json().bytes,
    maxEntries: 10_000,
    maxBytes: 16 * 1024 * 1024,
    coalesced: 0,
    loads: 1,
    expirations: 0,
    invalidations: 0,
    ttlSeconds: 300,
    hitRate: 0.5
  })
  assert.ok(res.json().bytes > 100)
})

test('GET /health: 200 with the average response time and the cache hit rate', async (t) => {
  const { app } = await startTestApp(t)
  await app.inject('/api/items/5')
  await app.inject('/api/items/5')
  const res = await app.inject('/health')
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.status, 'ok')
  assert.equal(body.database, 'ok')
  assert.equal(body.profile, 'optimized')
  assert.equal(body.cacheHitRate, 0.5)
  assert.equal(body.requests, 2)
  assert.equal(typeof body.averageResponseTimeMs, 'number')
  assert.ok(body.averageResponseTimeMs > 0)
  assert.equal(typeof body.uptimeSeconds, 'number')
})
