import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildApp } from '../../demo-app/app.ts'
import { loadDemoConfig } from '../../demo-app/config.ts'
import { runMigrations, MIGRATIONS } from '../../demo-app/db/migrations.ts'
import { SEED_CATEGORIES } from '../../demo-app/db/seed.ts'
import { startTestApp } from './test-app.ts'

test('start-up migrates and seeds SEED_ROWS items into an empty catalogue', async (t) => {
  const { app } = await startTestApp(t, { env: { SEED_ROWS: '37' } })
  const { rows } = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM items')
  assert.equal(Number(rows[0]?.n), 37)
  const versions = await app.db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
  assert.deepEqual(versions.rows.map((r) => r.version), MIGRATIONS.map((m) => m.version))
})

test('migrations and seed are idempotent and safe when several replicas start at once', async (t) => {
  const first = await startTestApp(t, { env: { SEED_ROWS: '20' } })
  assert.deepEqual(await runMigrations(first.app.db), [], 'a second run applies nothing')
  const config = loadDemoConfig({ DATABASE_URL: first.pg.url, UPSTREAM_URL: first.upstream.url, SEED_ROWS: '500', LOG_LEVEL: 'silent' }, { cores: 1 })
  const replicas = await Promise.all([buildApp(config), buildApp(config), buildApp(config)])
  t.after(() => Promise.all(replicas.map((replica) => replica.close())))
  const { rows } = await first.app.db.query<{ n: string }>('SELECT count(*) AS n FROM items')
  assert.equal(Number(rows[0]?.n), 20, 'a catalogue that has items is not seeded again')
})

test('replicas racing on an empty database migrate and seed it exactly once', async (t) => {
  const { pg, upstream, app } = await startTestApp(t, { env: { SEED_ROWS: '0' } })
  await app.db.query('DROP TABLE items, schema_migrations')
  const config = loadDemoConfig({ DATABASE_URL: pg.url, UPSTREAM_URL: upstream.url, SEED_ROWS: '30', LOG_LEVEL: 'silent' }, { cores: 1 })
  const replicas = await Promise.all(Array.from({ length: 4 }, () => buildApp(config)))
  t.after(() => Promise.all(replicas.map((replica) => replica.close())))
  const { rows } = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM items')
  assert.equal(Number(rows[0]?.n), 30)
  const applied = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')
  assert.equal(Number(applied.rows[0]?.n), MIGRATIONS.length)
})

test('GET /api/items/:id returns the item', async (t) => {
  const { app } = await startTestApp(t)
  const res = await app.inject('/api/items/9')
  assert.equal(res.statusCode, 200)
  const item = res.json()
  assert.equal(item.id, 9)
  assert.equal(item.sku, 'SEED-0000009')
  assert.equal(item.category, SEED_CATEGORIES[9 % SEED_CATEGORIES.length])
  assert.equal(typeof item.priceCents, 'number')
  assert.ok(!Number.isNaN(Date.parse(item.createdAt)))
})

test('GET /api/items/:id of an unknown id is a 404 naming the id', async (t) => {
  const { app } = await startTestApp(t)
  const res = await app.inject('/api/items/4242')
  assert.equal(res.statusCode, 404)
  assert.deepEqual(res.json(), { statusCode: 404, error: 'Not Found', code: 'DEMO_ERR_ITEM_NOT_FOUND', message: 'item 4242 does not exist', field: 'id' })
})

test('GET /api/items lists by id with filters and pagination', async (t) => {
  const { app } = await startTestApp(t)
  const firstPage = await app.inject('/api/items?limit=5')
  assert.equal(firstPage.statusCode, 200)
  const page = firstPage.json()
  assert.equal(page.total, 50)
  assert.equal(page.limit, 5)
  assert.equal(page.offset, 0)
  assert.deepEqual(page.items.map((i: { id: number }) => i.id), [1, 2, 3, 4, 5])

  const second = (await app.inject('/api/items?limit=5&offset=5')).json()
  assert.deepEqual(second.items.map((i: { id: number }) => i.id), [6, 7, 8, 9, 10])

  const defaults = (await app.inject('/api/items')).json()
  assert.equal(defaults.items.length, 20)
  assert.equal(defaults.limit, 20)

  const toys = (await app.inject('/api/items?category=toys&limit=100')).json()
  assert.ok(toys.items.length > 0)
  assert.ok(toys.items.every((i: { category: string }) => i.category === 'toys'))
  assert.equal(toys.total, toys.items.length)

  const priced = (await app.inject('/api/items?minPriceCents=10000&maxPriceCents=50000&limit=100')).json()
  assert.ok(priced.items.every((i: { priceCents: number }) => i.priceCents >= 10000 && i.priceCents <= 50000))

  const named = (await app.inject('/api/items?q=item%2012')).json()
  assert.deepEqual(named.items.map((i: { name: string }) => i.name), ['Item 12'])

  const wildcard = (await app.inject('/api/items?q=%25')).json()
  assert.equal(wildcard.total, 0, '% in q matches literally, not as a wildcard')

  const inStock = (await app.inject('/api/items?inStock=true&limit=100')).json()
  assert.ok(inStock.items.every((i: { stock: number }) => i.stock > 0))

  const pastTheEnd = (await app.inject('/api/items?offset=1000')).json()
  assert.deepEqual(pastTheEnd, { items: [], total: 50, limit: 20, offset: 1000 })
})

test('POST /api/items creates an item with a Location header', async (t) => {
  const { app } = await startTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/items', payload: { sku: 'NEW-1', name: 'Kettle', category: 'kitchen', priceCents: 2599, stock: 3 } })
  assert.equal(res.statusCode, 201)
  const item = res.json()
  assert.equal(res.headers.location, `/api/items/${item.id}`)
  assert.equal(item.sku, 'NEW-1')
  assert.equal(item.stock, 3)
  const read = await app.inject(`/api/items/${item.id}`)
  assert.equal(read.json().name, 'Kettle')

  const noStock = await app.inject({ method: 'POST', url: '/api/items', payload: { sku: 'NEW-2', name: 'Mug', category: 'kitchen', priceCents: 0 } })
  assert.equal(noStock.statusCode, 201)
  assert.equal(noStock.json().stock, 0)
})

test('POST /api/items with a taken SKU is a 409 naming the sku', async (t) => {
  const { app } = await startTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/items', payload: { sku: 'SEED-0000001', name: 'Copy', category: 'toys', priceCents: 1 } })
  assert.equal(res.statusCode, 409)
  assert.equal(res.json().code, 'DEMO_ERR_SKU_CONFLICT')
  assert.equal(res.json().field, 'sku')
  assert.match(res.json().message, /SEED-0000001/)
})

test('PATCH /api/items/:id updates the given fields only', async (t) => {
  const { app } = await startTestApp(t)
  const before = (await app.inject('/api/items/4')).json()
  const res = await app.inject({ method: 'PATCH', url: '/api/items/4', payload: { priceCents: 999, name: 'Renamed' } })
  assert.equal(res.statusCode, 200)
  const after = res.json()
  assert.equal(after.priceCents, 999)
  assert.equal(after.name, 'Renamed')
  assert.equal(after.sku, before.sku)
  assert.equal(after.stock, before.stock)
  assert.ok(Date.parse(after.updatedAt) >= Date.parse(before.updatedAt))

  const missing = await app.inject({ method: 'PATCH', url: '/api/items/777', payload: { stock: 1 } })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().code, 'DEMO_ERR_ITEM_NOT_FOUND')

  const conflict = await app.inject({ method: 'PATCH', url: '/api/items/4', payload: { sku: 'SEED-0000005' } })
  assert.equal(conflict.statusCode, 409)
})
