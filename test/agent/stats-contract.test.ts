import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contractToFamilies, STATS_METRICS } from '../../agent/sources/stats-contract.ts'
import type { StatsDocument } from '../../contract/stats-v1.ts'
import type { CollectResult, MetricFamily } from '../../agent/types.ts'

function validDocument (): StatsDocument {
  return {
    schema: 'outrigger.stats/v1',
    service: { name: 'demo-app', version: '1.2.3', profile: 'optimized' },
    pid: 4242,
    startTimeSeconds: 1_700_000_000.5,
    http: {
      inFlight: 3,
      routes: [
        {
          route: '/api/items/:id',
          method: 'GET',
          statusClass: '2xx',
          durationSeconds: { buckets: [{ le: 0.005, count: 10 }, { le: 0.05, count: 90 }, { le: 0.5, count: 99 }], sum: 2.5, count: 100 }
        },
        {
          route: '/api/items',
          method: 'POST',
          statusClass: '5xx',
          durationSeconds: { buckets: [{ le: 0.005, count: 0 }, { le: 0.05, count: 1 }], sum: 0.04, count: 1 }
        }
      ]
    },
    caches: {
      items: { hits: 800, misses: 200, sets: 210, evictions: 10, entries: 200, bytes: 51_200, maxEntries: 1000, maxBytes: 0 }
    },
    dbPools: {
      main: {
        max: 8,
        total: 5,
        idle: 3,
        waiting: 0,
        acquireSeconds: { buckets: [{ le: 0.001, count: 50 }, { le: 0.01, count: 60 }], sum: 0.12, count: 61 },
        acquireTimeouts: 1,
        errors: 2
      }
    },
    httpClients: {
      upstream: {
        connections: 4,
        free: 2,
        pending: 1,
        running: 2,
        requests: 300,
        errors: 7,
        durationSeconds: { buckets: [{ le: 0.1, count: 250 }, { le: 1, count: 299 }], sum: 30, count: 300 }
      }
    }
  }
}

function family (result: CollectResult, name: string): MetricFamily {
  const found = result.families.find((f) => f.name === name)
  assert.ok(found, `family ${name} is emitted`)
  return found
}

function scalar (result: CollectResult, name: string, labels: Record<string, string>): number {
  const f = family(result, name)
  assert.notEqual(f.type, 'histogram', `${name} is a scalar family`)
  const sample = f.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))
  assert.ok(sample, `${name} has a sample labelled ${JSON.stringify(labels)}; has ${JSON.stringify(f.samples.map((s) => s.labels))}`)
  return (sample as { value: number }).value
}

function assertMismatch (result: CollectResult, ...fragments: string[]): void {
  assert.deepEqual(result.families, [])
  assert.equal(result.failure?.reason, 'contract_mismatch')
  for (const fragment of fragments) {
    assert.ok(result.failure.message.includes(fragment), `message ${JSON.stringify(result.failure.message)} includes ${JSON.stringify(fragment)}`)
  }
}

test('a full valid document yields every family with its values, each sample labelled target', () => {
  const result = contractToFamilies(validDocument(), 'demo')
  assert.equal(result.failure, undefined)
  assert.deepEqual(result.families.map((f) => f.name), Object.values(STATS_METRICS).map((m) => m.name))
  for (const f of result.families) {
    assert.equal(f.type, Object.values(STATS_METRICS).find((m) => m.name === f.name)?.type)
    assert.ok(f.help.length > 0)
    for (const sample of f.samples) assert.equal(sample.labels.target, 'demo', `${f.name} sample has target`)
  }

  assert.equal(scalar(result, 'app_info', { target: 'demo', service: 'demo-app', version: '1.2.3', profile: 'optimized' }), 1)
  assert.equal(scalar(result, 'app_start_time_seconds', { target: 'demo' }), 1_700_000_000.5)
  assert.equal(scalar(result, 'app_pid', { target: 'demo' }), 4242)
  assert.equal(scalar(result, 'app_http_requests_in_flight', { target: 'demo' }), 3)

  const get = { target: 'demo', route: '/api/items/:id', method: 'GET', status_class: '2xx' }
  assert.equal(scalar(result, 'app_http_requests_total', get), 100)
  assert.equal(scalar(result, 'app_http_requests_total', { ...get, route: '/api/items', method: 'POST', status_class: '5xx' }), 1)
  const duration = family(result, 'app_http_request_duration_seconds')
  assert.equal(duration.type, 'histogram')
  assert.deepEqual(duration.samples[0], {
    labels: get,
    buckets: [{ le: 0.005, count: 10 }, { le: 0.05, count: 90 }, { le: 0.5, count: 99 }],
    sum: 2.5,
    count: 100
  })

  const cache = { target: 'demo', cache: 'items' }
  assert.equal(scalar(result, 'app_cache_hits_total', cache), 800)
  assert.equal(scalar(result, 'app_cache_misses_total', cache), 200)
  assert.equal(scalar(result, 'app_cache_sets_total', cache), 210)
  assert.equal(scalar(result, 'app_cache_evictions_total', cache), 10)
  assert.equal(scalar(result, 'app_cache_entries', cache), 200)
  assert.equal(scalar(result, 'app_cache_bytes', cache), 51_200)
  assert.equal(scalar(result, 'app_cache_max_entries', cache), 1000)
  assert.equal(scalar(result, 'app_cache_max_bytes', cache), 0)

  const pool = { target: 'demo', pool: 'main' }
  assert.equal(scalar(result, 'app_db_pool_connections_max', pool), 8)
  assert.equal(scalar(result, 'app_db_pool_connections', pool), 5)
  assert.equal(scalar(result, 'app_db_pool_connections_idle', pool), 3)
  assert.equal(scalar(result, 'app_db_pool_waiting_clients', pool), 0)
  assert.equal(scalar(result, 'app_db_pool_acquire_timeouts_total', pool), 1)
  assert.equal(scalar(result, 'app_db_pool_errors_total', pool), 2)
  assert.deepEqual(family(result, 'app_db_pool_acquire_duration_seconds').samples, [
    { labels: pool, buckets: [{ le: 0.001, count: 50 }, { le: 0.01, count: 60 }], sum: 0.12, count: 61 }
  ])

  const client = { target: 'demo', client: 'upstream' }
  assert.equal(scalar(result, 'app_http_client_connections', client), 4)
  assert.equal(scalar(result, 'app_http_client_connections_free', client), 2)
  assert.equal(scalar(result, 'app_http_client_requests_pending', client), 1)
  assert.equal(scalar(result, 'app_http_client_requests_running', client), 2)
  assert.equal(scalar(result, 'app_http_client_requests_total', client), 300)
  assert.equal(scalar(result, 'app_http_client_errors_total', client), 7)
  assert.deepEqual(family(result, 'app_http_client_request_duration_seconds').samples, [
    { labels: client, buckets: [{ le: 0.1, count: 250 }, { le: 1, count: 299 }], sum: 30, count: 300 }
  ])
})

test('families without samples are left out, and a missing profile is not a label', () => {
  const doc = validDocument()
  delete doc.service.profile
  doc.http.routes = []
  doc.caches = {}
  doc.dbPools = {}
  doc.httpClients = {}
  const result = contractToFamilies(doc, 'bare')
  assert.equal(result.failure, undefined)
  assert.deepEqual(result.families.map((f) => f.name), ['app_info', 'app_start_time_seconds', 'app_pid', 'app_http_requests_in_flight'])
  assert.equal(scalar(result, 'app_info', { target: 'bare', service: 'demo-app', version: '1.2.3' }), 1)
})

test('every metric name is a valid Prometheus name and counters end in _total', () => {
  for (const metric of Object.values(STATS_METRICS)) {
    assert.match(metric.name, /^app_[a-z_]+$/)
    assert.equal(metric.name.endsWith('_total'), metric.type === 'counter', metric.name)
    if (metric.type === 'histogram') assert.ok(metric.name.endsWith('_seconds'), metric.name)
  }
})

test('another schema version is refused by name', () => {
  const doc = { ...validDocument(), schema: 'outrigger.stats/v2' }
  assertMismatch(contractToFamilies(doc, 'demo'), 'unsupported schema "outrigger.stats/v2"', 'outrigger.stats/v1')
})

test('not an object at all is a mismatch at the root', () => {
  assertMismatch(contractToFamilies([1, 2], 'demo'), '/ must be object')
  assertMismatch(contractToFamilies('hello', 'demo'), '/ must be object')
})

test('a missing field is named with its parent path', () => {
  const doc = validDocument() as unknown as { caches: { items: Record<string, unknown> } }
  delete doc.caches.items.evictions
  assertMismatch(contractToFamilies(doc, 'demo'), "/caches/items must have required property 'evictions'")
})

test('a negative counter is caught with its path', () => {
  const doc = validDocument()
  doc.httpClients.upstream!.errors = -1
  assertMismatch(contractToFamilies(doc, 'demo'), '/httpClients/upstream/errors must be >= 0')
})

test('an unknown key is named', () => {
  const doc = { ...validDocument(), extra: true }
  assertMismatch(contractToFamilies(doc, 'demo'), '/ must NOT have additional properties ("extra")')
})

test('at most three errors are listed and the rest counted', () => {
  const doc = validDocument()
  const cache = doc.caches.items!
  cache.hits = -1
  cache.misses = -1
  cache.sets = -1
  cache.evictions = -1
  cache.entries = -1
  const message = contractToFamilies(doc, 'demo').failure?.message ?? ''
  assert.equal(message.split(';').length, 4, message)
  assert.match(message, /and 2 more$/)
})

test('buckets that are not ascending by le are a mismatch naming the histogram and bucket', () => {
  const doc = validDocument()
  doc.dbPools.main!.acquireSeconds.buckets = [{ le: 0.01, count: 50 }, { le: 0.001, count: 60 }]
  assertMismatch(contractToFamilies(doc, 'demo'), '/dbPools/main/acquireSeconds/buckets/1', 'app_db_pool_acquire_duration_seconds', 'ascending')
})

test('bucket counts that decrease are a mismatch naming the histogram and bucket', () => {
  const doc = validDocument()
  doc.http.routes[0]!.durationSeconds.buckets[2]!.count = 80
  assertMismatch(contractToFamilies(doc, 'demo'), '/http/routes/0/durationSeconds/buckets/2', 'app_http_request_duration_seconds', 'cumulative')
})

test('a last bucket above count is a mismatch', () => {
  const doc = validDocument()
  doc.httpClients.upstream!.durationSeconds.count = 298
  assertMismatch(contractToFamilies(doc, 'demo'), '/httpClients/upstream/durationSeconds/count', 'app_http_client_request_duration_seconds')
})

test('converted samples do not share arrays with the document', () => {
  const doc = validDocument()
  const result = contractToFamilies(doc, 'demo')
  doc.dbPools.main!.acquireSeconds.buckets[0]!.count = 999
  const histograms = family(result, 'app_db_pool_acquire_duration_seconds')
  assert.equal(histograms.type, 'histogram')
  assert.equal(histograms.samples[0]?.buckets[0]?.count, 50)
})
