import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { DemoAppError } from '../../demo-app/errors.ts'
import { isConnectionError } from '../../demo-app/plugins/db-pool.ts'
import { startPostgres } from '../support/postgres.ts'
import { waitUntil } from '../support/wait.ts'
import { startTestApp } from './test-app.ts'

test('the optimized pool keeps `cores` connections warm from the start', async (t) => {
  const { app } = await startTestApp(t, { env: { DB_POOL_MIN: '3' } })
  const stats = app.db.stats()
  assert.equal(stats.max, 8, '4 × 2 cores')
  assert.ok(stats.total >= 3, `expected at least 3 open connections, got ${stats.total}`)
})

test('the baseline pool keeps pg defaults: max 10, nothing opened ahead', async (t) => {
  const { app } = await startTestApp(t, { env: { DEMO_PROFILE: 'baseline' } })
  const stats = app.db.stats()
  assert.equal(stats.max, 10)
  assert.ok(stats.total <= 1, 'only the start-up work connection, if it is still idle')
})

test('pool stats move under concurrent load: total, idle, waiting and the acquire histogram', async (t) => {
  const { app, pg: db } = await startTestApp(t, { env: { DB_POOL_MAX: '3', DB_POOL_MIN: '1' } })
  const acquiredBefore = app.db.stats().acquireSeconds.count
  const blocker = new pg.Client({ connectionString: db.url })
  blocker.on('error', () => {})
  await blocker.connect()
  await blocker.query('BEGIN')
  await blocker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE')

  const responses = Promise.all(Array.from({ length: 5 }, (_, i) => app.inject(`/api/items?limit=${i + 1}`)))
  await waitUntil(() => app.db.stats().waiting === 2, { what: 'two requests waiting for a connection' })
  const busy = app.db.stats()
  assert.equal(busy.total, 3)
  assert.equal(busy.idle, 0)
  assert.equal(busy.waiting, 2)

  await blocker.query('COMMIT')
  await blocker.end()
  assert.ok((await responses).every((res) => res.statusCode === 200))
  const after = app.db.stats()
  assert.equal(after.waiting, 0)
  assert.equal(after.idle, after.total)
  assert.equal(after.acquireSeconds.count - acquiredBefore, 5)
  assert.equal(after.acquireTimeouts, 0)
})

test('an exhausted pool answers 503 with a JSON error after the acquire timeout', async (t) => {
  const { app } = await startTestApp(t, { env: { DB_POOL_MAX: '2', DB_POOL_MIN: '0', DB_ACQUIRE_TIMEOUT_MS: '200' } })
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  const holders = [app.db.withClient(() => held), app.db.withClient(() => held)]
  await waitUntil(() => app.db.stats().idle === 0 && app.db.stats().total === 2, { what: 'both connections checked out' })

  const res = await app.inject('/api/items/1')
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.code, 'DEMO_ERR_DB_ACQUIRE_TIMEOUT')
  assert.equal(body.error, 'Service Unavailable')
  assert.match(body.message, /within 200 ms/)
  assert.equal(app.db.stats().acquireTimeouts, 1)

  release()
  await Promise.all(holders)
  assert.equal((await app.inject('/api/items/1')).statusCode, 200, 'the pool serves again once connections are back')
})

test('a statement past the statement timeout is cancelled: 503, and the connection stays in service', async (t) => {
  const { app, pg: db } = await startTestApp(t, { env: { DB_STATEMENT_TIMEOUT_MS: '200', DB_POOL_MIN: '1', DB_POOL_MAX: '1' } })
  const blocker = new pg.Client({ connectionString: db.url })
  blocker.on('error', () => {})
  await blocker.connect()
  await blocker.query('BEGIN')
  await blocker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE')
  const res = await app.inject('/api/items?limit=1')
  await blocker.query('COMMIT')
  await blocker.end()
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().code, 'DEMO_ERR_DB_TIMEOUT')
  assert.match(res.json().message, /200 ms statement timeout/)
  assert.equal((await app.inject('/api/items?limit=1')).statusCode, 200)
  assert.equal(app.db.stats().total, 1, 'the same connection serves again')
})

test('Postgres stopped mid-test: 503 with the reason, then recovery without restarting the app', async (t) => {
  const db = await startPostgres({ dedicated: true })
  t.after(() => db.close())
  const { app } = await startTestApp(t, { pg: db, env: { DB_ACQUIRE_TIMEOUT_MS: '2000', DB_HEALTH_TIMEOUT_MS: '1500' } })
  assert.equal((await app.inject('/health')).statusCode, 200)
  assert.equal((await app.inject('/api/items/1')).statusCode, 200)

  await db.stop()
  const item = await app.inject('/api/items/2')
  assert.equal(item.statusCode, 503)
  assert.equal(item.json().code, 'DEMO_ERR_DB_UNAVAILABLE')
  assert.match(item.json().message, /^database unavailable: .+/)

  const health = await app.inject('/health')
  assert.equal(health.statusCode, 503)
  assert.equal(health.json().status, 'unavailable')
  assert.equal(health.json().database, 'unavailable')
  assert.ok(health.json().reason.length > 0, 'the reason is given')

  const list = await app.inject('/api/items')
  assert.equal(list.statusCode, 503)
  assert.ok(app.db.stats().errors > 0)

  await db.start()
  await waitUntil(async () => (await app.inject('/health')).statusCode === 200, { what: '/health to recover', timeoutMs: 30_000 })
  assert.equal((await app.inject('/api/items/2')).json().id, 2)
  assert.equal((await app.inject('/api/items/1')).statusCode, 200, 'the cached item is still served')
  await waitUntil(() => app.db.stats().total >= 2, { what: 'warm connections refilled' })
})

test('connection failures are told apart from SQL errors and bugs', () => {
  const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code })
  for (const error of [withCode('ECONNREFUSED'), withCode('EPIPE'), withCode('57P01'), withCode('08006'), withCode('53300'), withCode('28P01'), withCode('3D000'),
    new Error('Connection terminated unexpectedly'), new Error('Client has encountered a connection error and is not queryable')]) {
    assert.equal(isConnectionError(error), true, error.message)
  }
  for (const error of [withCode('23505'), withCode('22P02'), withCode('42P01'), new TypeError('undefined is not a function'),
    new DemoAppError('DEMO_ERR_ITEM_NOT_FOUND', 'item 1 does not exist')]) {
    assert.equal(isConnectionError(error), false, error.message)
  }
})
