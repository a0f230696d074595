import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadDemoConfig } from '../../demo-app/config.ts'
import { DemoAppError } from '../../demo-app/errors.ts'

test('optimized is the default profile and applies the report settings', () => {
  const config = loadDemoConfig({}, { cores: 3 })
  assert.equal(config.profile, 'optimized')
  assert.equal(config.port, 8000)
  assert.equal(config.databaseUrl, undefined, 'unset → embedded database')
  assert.deepEqual(config.db, { max: 12, min: 3, acquireTimeoutMs: 10_000, idleTimeoutMs: 600_000, maxLifetimeSeconds: 1800, statementTimeoutMs: 10_000, healthTimeoutMs: 2000 })
  assert.deepEqual(config.cache, { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, ttlMs: 300_000 })
  assert.equal(config.upstream.connections, 20)
  assert.equal(config.upstream.reuseConnections, true)
  assert.equal(config.upstream.keepAliveTimeoutMs, 30_000)
  assert.equal(config.upstream.timeoutMs, 10_000)
  assert.equal(config.upstream.tcpKeepAliveInitialDelayMs, 60_000)
  assert.equal(config.seedRows, 10_000)
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.db))
})

test('baseline keeps library defaults and no cache', () => {
  const config = loadDemoConfig({ DEMO_PROFILE: 'baseline' }, { cores: 3 })
  assert.deepEqual(config.db, { max: 10, min: 0, acquireTimeoutMs: 10_000, idleTimeoutMs: 10_000, maxLifetimeSeconds: 0, statementTimeoutMs: 10_000, healthTimeoutMs: 2000 })
  assert.equal(config.cache.maxEntries, 0)
  assert.equal(config.upstream.connections, null)
  assert.equal(config.upstream.reuseConnections, false)
})

test('every setting can be overridden, 0 included', () => {
  const config = loadDemoConfig({
    PORT: '0',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u:p@db:5432/app',
    UPSTREAM_URL: 'http://upstream:8081/base',
    SEED_ROWS: '0',
    DB_POOL_MAX: '3',
    DB_POOL_MIN: '0',
    DB_ACQUIRE_TIMEOUT_MS: '250',
    DB_IDLE_TIMEOUT_MS: '0',
    DB_MAX_LIFETIME_SECONDS: '0',
    CACHE_MAX_ENTRIES: '0',
    UPSTREAM_TIMEOUT_MS: '100',
    UPSTREAM_CONNECTIONS: '4',
    LOG_LEVEL: 'silent',
    OTEL_SERVICE_NAME: 'shop'
  })
  assert.equal(config.port, 0)
  assert.equal(config.host, '0.0.0.0')
  assert.equal(config.databaseUrl, 'postgres://u:p@db:5432/app')
  assert.equal(config.seedRows, 0)
  assert.equal(config.db.max, 3)
  assert.equal(config.db.min, 0)
  assert.equal(config.db.acquireTimeoutMs, 250)
  assert.equal(config.db.idleTimeoutMs, 0)
  assert.equal(config.cache.maxEntries, 0)
  assert.equal(config.upstream.timeoutMs, 100)
  assert.equal(config.upstream.connections, 4)
  assert.equal(config.serviceName, 'shop')
  assert.equal(config.logLevel, 'silent')
})

test('the warm minimum never exceeds a smaller pool max', () => {
  assert.equal(loadDemoConfig({ DB_POOL_MAX: '2' }, { cores: 8 }).db.min, 2)
})

test('bad values are all reported together, naming the variable and the value', () => {
  assert.throws(() => loadDemoConfig({
    PORT: 'eighty',
    DEMO_PROFILE: 'fast',
    DATABASE_URL: 'mysql://root:secret@db/app',
    DB_POOL_MAX: '0',
    UPSTREAM_URL: 'ftp://x'
  }), (error: unknown) => {
    assert.ok(error instanceof DemoAppError)
    assert.equal(error.code, 'DEMO_ERR_CONFIG_INVALID')
    assert.match(error.message, /PORT must be a whole number from 0 to 65535, got "eighty"/)
    assert.match(error.message, /DEMO_PROFILE must be one of optimized, baseline, got "fast"/)
    assert.match(error.message, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/)
    assert.ok(!error.message.includes('secret'), 'passwords are not echoed')
    assert.match(error.message, /DB_POOL_MAX must be at least 1, got "0"/)
    assert.match(error.message, /UPSTREAM_URL must be an http/)
    assert.ok(!error.message.includes('\n'), 'one line')
    return true
  })
  assert.throws(() => loadDemoConfig({ DB_POOL_MAX: '2', DB_POOL_MIN: '5' }), /DB_POOL_MIN must not exceed the pool max \(2\), got 5/)
})

test('empty strings count as unset; look-alike unknown variables are warned about with a suggestion', () => {
  const config = loadDemoConfig({ PORT: '', DB_POOL_MAXX: '5', UPSTREAM_LATENCY_MS: '10', PATH: '/bin' })
  assert.equal(config.port, 8000)
  assert.deepEqual(config.warnings, ['unknown variable DB_POOL_MAXX is ignored; did you mean DB_POOL_MAX?'])
})
