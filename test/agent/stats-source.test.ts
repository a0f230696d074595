import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { StatsSource, countSeries } from '../../agent/sources/stats-source.ts'
import type { StatsSourceOptions } from '../../agent/sources/stats-source.ts'
import type { StatsDocument, StatsHistogram } from '../../contract/stats-v1.ts'
import type { CollectResult } from '../../agent/types.ts'
import { deadline, sampleValue as scalar } from '../support/collect-assertions.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function listen (t: TestContext, handler: Handler): Promise<number> {
  const server = http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as AddressInfo).port
}

function source (port: number, extra: Partial<StatsSourceOptions> = {}): StatsSource {
  return new StatsSource({
    target: 'shop',
    url: `http://127.0.0.1:${port}/stats`,
    format: 'contract',
    intervalSeconds: 10,
    timeoutSeconds: 5,
    bodyLimitBytes: 1024 * 1024,
    seriesLimit: 10_000,
    ...extra
  })
}

const histogram = (count: number): StatsHistogram => ({
  buckets: [{ le: 0.005, count: Math.floor(count / 2) }, { le: 0.05, count: count - 1 }, { le: 0.5, count }],
  sum: count * 0.01,
  count
})

/** A hand-written outrigger.stats/v1 document, following contract/outrigger.stats.v1.schema.json. */
function statsDocument (routes = 2): StatsDocument {
  return {
    schema: 'outrigger.stats/v1',
    service: { name: 'shop', version: '1.4.2', profile: 'optimized' },
    pid: 4242,
    startTimeSeconds: 1_750_000_000,
    http: {
      inFlight: 3,
      routes: Array.from({ length: routes }, (_, i) => ({
        route: `/api/items/${i === 0 ? ':id' : `r${i}`}`,
        method: 'GET',
        statusClass: '2xx' as const,
        durationSeconds: histogram(100 + i)
      }))
    },
    caches: {
      items: { hits: 900, misses: 100, sets: 120, evictions: 20, entries: 100, bytes: 51_200, maxEntries: 1000, maxBytes: 0 }
    },
    dbPools: {
      main: { max: 8, total: 4, idle: 3, waiting: 0, acquireSeconds: histogram(500), acquireTimeouts: 0, errors: 1 }
    },
    httpClients: {
      upstream: { connections: 2, free: 1, pending: 0, running: 1, requests: 300, errors: 2, durationSeconds: histogram(300) }
    }
  }
}

function assertSuccess (result: CollectResult): void {
  assert.equal(result.failure, undefined, result.failure?.message)
  assert.ok(result.families.length > 0)
}

function assertFailure (result: CollectResult, reason: string): void {
  assert.equal(result.failure?.reason, reason, result.failure?.message)
  assert.deepEqual(result.families, [])
}

test('a valid contract document becomes app_* families labelled with the target, and headers are sent', async (t) => {
  let authorization: string | undefined
  const port = await listen(t, (req, res) => {
    authorization = req.headers.authorization
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(statsDocument()))
  })
  const instance = source(port, { headers: { authorization: 'Bearer stats-token' } })
  assert.equal(instance.id, 'shop/stats')
  assert.equal(instance.kind, 'stats')
  const result = await instance.collect(deadline())
  assertSuccess(result)
  assert.equal(authorization, 'Bearer stats-token')
  assert.equal(scalar(result, 'app_cache_hits_total', { cache: 'items' }), 900)
  assert.equal(scalar(result, 'app_http_requests_in_flight'), 3)
  const requests = result.families.find((f) => f.name === 'app_http_request_duration_seconds')
  assert.equal(requests?.type, 'histogram')
  for (const family of result.families) {
    for (const sample of family.samples) assert.equal(sample.labels.target, 'shop')
  }
})

test('a body that is not JSON fails with invalid_json, then a valid document succeeds', async (t) => {
  let body: Buffer | string = Buffer.from([0x7b, 0xff, 0xfe, 0x22])
  const port = await listen(t, (_req, res) => res.end(body))
  const instance = source(port)
  assertFailure(await instance.collect(deadline()), 'invalid_json')
  body = '<html>oops</html>'
  assertFailure(await instance.collect(deadline()), 'invalid_json')
  body = JSON.stringify(statsDocument())
  assertSuccess(await instance.collect(deadline()))
})

test('a document over the series limit fails with too_many_series and yields nothing, then a smaller one succeeds', async (t) => {
  let routes = 40
  const port = await listen(t, (_req, res) => res.end(JSON.stringify(statsDocument(routes))))
  const instance = source(port, { seriesLimit: 150 })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'too_many_series')
  assert.match(failed.failure?.message ?? '', /150/)
  routes = 2
  const ok = await instance.collect(deadline())
  assertSuccess(ok)
  assert.ok(countSeries(ok.families) <= 150)
})

test('a 500 answer fails with http_status, then a 200 succeeds', async (t) => {
  let status = 500
  const port = await listen(t, (_req, res) => {
    res.statusCode = status
    res.end(JSON.stringify(statsDocument()))
  })
  const instance = source(port)
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'http_status')
  assert.match(failed.failure?.message ?? '', /500/)
  status = 200
  assertSuccess(await instance.collect(deadline()))
})

test('a fetch failure yields no families and its reason; a document that breaks the contract yields contract_mismatch', async (t) => {
  const dead = http.createServer()
  dead.listen(0, '127.0.0.1')
  await once(dead, 'listening')
  const port = (dead.address() as AddressInfo).port
  dead.close()
  await once(dead, 'close')
  assertFailure(await source(port).collect(deadline()), 'refused')

  let document: unknown = { schema: 'outrigger.stats/v2' }
  const live = await listen(t, (_req, res) => res.end(JSON.stringify(document)))
  const instance = source(live)
  assertFailure(await instance.collect(deadline()), 'contract_mismatch')
  document = statsDocument()
  assertSuccess(await instance.collect(deadline()))

  const small = source(live, { bodyLimitBytes: 64 })
  assertFailure(await small.collect(deadline()), 'body_too_large')
})

test('format mapping reads any JSON through the rules compiled at construction', async (t) => {
  const port = await listen(t, (_req, res) => res.end(JSON.stringify({ queues: [{ name: 'mail', depth: 7 }, { name: 'sms', depth: 0 }] })))
  const instance = source(port, {
    format: 'mapping',
    mappings: [{ name: 'queue_depth', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { queue: '$.name' } }]
  })
  const result = await instance.collect(deadline())
  assertSuccess(result)
  assert.equal(scalar(result, 'app_queue_depth', { queue: 'mail', target: 'shop' }), 7)
  assert.equal(scalar(result, 'app_queue_depth', { queue: 'sms' }), 0)
  assert.throws(() => source(port, { format: 'mapping' }), { code: 'OUTRIGGER_ERR_MAPPING_INVALID' })
})

test('countSeries counts histogram buckets, +Inf, _sum and _count', () => {
  assert.equal(countSeries([
    { name: 'a', help: '', type: 'gauge', samples: [{ labels: {}, value: 1 }, { labels: { x: '1' }, value: 2 }] },
    { name: 'b', help: '', type: 'histogram', samples: [{ labels: {}, buckets: [{ le: 1, count: 1 }, { le: 2, count: 2 }], sum: 3, count: 2 }] }
  ]), 7)
})
