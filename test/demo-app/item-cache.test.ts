import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { ReadThroughCache } from '../../demo-app/plugins/item-cache.ts'
import { waitUntil } from '../support/wait.ts'
import { startTestApp } from './test-app.ts'

test('N reads of one id make 1 miss and N-1 hits, and one database query', async (t) => {
  const { app } = await startTestApp(t)
  const queriesBefore = app.db.queries
  const n = 25
  for (let i = 0; i < n; i++) {
    const res = await app.inject('/api/items/12')
    assert.equal(res.statusCode, 200)
  }
  const stats = (await app.inject('/api/cache/stats')).json()
  assert.equal(stats.misses, 1)
  assert.equal(stats.hits, n - 1)
  assert.equal(stats.sets, 1)
  assert.equal(stats.loads, 1)
  assert.equal(stats.entries, 1)
  assert.ok(stats.bytes > 0)
  assert.equal(stats.hitRate, (n - 1) / n)
  assert.equal(app.db.queries - queriesBefore, 1)
})

test('an update invalidates the cached item, so the next read sees the change', async (t) => {
  const { app } = await startTestApp(t)
  assert.equal((await app.inject('/api/items/3')).statusCode, 200)
  assert.equal((await app.inject('/api/items/3')).statusCode, 200)
  const patched = await app.inject({ method: 'PATCH', url: '/api/items/3', payload: { priceCents: 4321 } })
  assert.equal(patched.statusCode, 200)
  const after = await app.inject('/api/items/3')
  assert.equal(after.json().priceCents, 4321)
  const stats = (await app.inject('/api/cache/stats')).json()
  assert.equal(stats.invalidations, 1)
  assert.equal(stats.misses, 2, 'the read after the update missed')
  assert.equal(stats.hits, 1)
})

test('single-flight: 100 concurrent misses of one id make one database query', async (t) => {
  const { app, pg: db } = await startTestApp(t)
  // Holding an exclusive lock on the table keeps the first load waiting until every request has missed.
  const blocker = new pg.Client({ connectionString: db.url })
  blocker.on('error', () => {})
  await blocker.connect()
  await blocker.query('BEGIN')
  await blocker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE')

  const queriesBefore = app.db.queries
  const responses = Promise.all(Array.from({ length: 100 }, () => app.inject('/api/items/21')))
  await waitUntil(() => app.itemCache.details().misses === 100, { what: '100 cache misses' })
  await blocker.query('COMMIT')
  await blocker.end()
  const answered = await responses

  assert.ok(answered.every((res) => res.statusCode === 200 && res.json().id === 21))
  assert.equal(app.db.queries - queriesBefore, 1)
  const stats = app.itemCache.details()
  assert.equal(stats.loads, 1)
  assert.equal(stats.coalesced, 99)
  assert.equal(stats.sets, 1)
  assert.equal(stats.hits, 0)
})

test('a load that started before an update does not cache what it read', async () => {
  const cache = new ReadThroughCache<number, { v: number }>('t', { maxEntries: 10, maxBytes: 1024 * 1024, ttlMs: 60_000 }, () => 1)
  let release: (value: { v: number }) => void = () => {}
  const loading = cache.get(1, () => new Promise((resolve) => { release = resolve }))
  cache.invalidate(1)
  release({ v: 1 })
  assert.deepEqual(await loading, { v: 1 })
  assert.equal(cache.stats().entries, 0)
  assert.equal(cache.stats().sets, 0)
  assert.deepEqual(await cache.get(1, async () => ({ v: 2 })), { v: 2 }, 'the next read loads afresh')
})

test('capacity evictions are counted, by entries and by bytes', async () => {
  const byEntries = new ReadThroughCache<number, { v: number }>('t', { maxEntries: 3, maxBytes: 1024 * 1024, ttlMs: 60_000 }, () => 10)
  for (let key = 1; key <= 5; key++) await byEntries.get(key, async (k) => ({ v: k }))
  assert.equal(byEntries.stats().evictions, 2)
  assert.equal(byEntries.stats().entries, 3)
  assert.equal(byEntries.stats().bytes, 30)

  const byBytes = new ReadThroughCache<number, { v: number }>('t', { maxEntries: 100, maxBytes: 1024, ttlMs: 60_000 }, () => 400)
  for (let key = 1; key <= 4; key++) await byBytes.get(key, async (k) => ({ v: k }))
  assert.equal(byBytes.stats().entries, 2)
  assert.equal(byBytes.stats().evictions, 2)
  assert.ok(byBytes.stats().bytes <= 1024)
})

test('a not-found load is passed on and not cached; a failed load reaches every waiter', async () => {
  const cache = new ReadThroughCache<number, { v: number }>('t', { maxEntries: 10, maxBytes: 1024, ttlMs: 60_000 }, () => 1)
  assert.equal(await cache.get(1, async () => undefined), undefined)
  assert.equal(cache.stats().entries, 0)
  const failing = async (): Promise<{ v: number }> => { throw new Error('boom') }
  const results = await Promise.allSettled([cache.get(2, failing), cache.get(2, failing)])
  assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'boom'))
  assert.equal(cache.details().loads, 2, 'one load for key 1, one shared by both readers of key 2')
})

test('the baseline profile has no cache: every read queries, cache stats stay at zero', async (t) => {
  const { app } = await startTestApp(t, { env: { DEMO_PROFILE: 'baseline' } })
  const queriesBefore = app.db.queries
  for (let i = 0; i < 5; i++) assert.equal((await app.inject('/api/items/2')).statusCode, 200)
  assert.equal(app.db.queries - queriesBefore, 5)
  const stats = (await app.inject('/api/cache/stats')).json()
  assert.equal(stats.enabled, false)
  assert.deepEqual(
    [stats.hits, stats.misses, stats.sets, stats.evictions, stats.entries, stats.bytes, stats.maxEntries, stats.maxBytes],
    [0, 0, 0, 0, 0, 0, 0, 0])
  assert.equal(stats.hitRate, null)
})
