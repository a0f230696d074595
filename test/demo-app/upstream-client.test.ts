import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { DemoAppError } from '../../demo-app/errors.ts'
import { startUpstream, type RunningUpstream } from '../../demo-app/upstream/server.ts'
import { waitUntil } from '../support/wait.ts'
import { startTestApp } from './test-app.ts'

test('GET /api/upstream/quote answers with the upstream JSON, passing ?delay on', async (t) => {
  const { app } = await startTestApp(t)
  const res = await app.inject('/api/upstream/quote?delay=20')
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.upstream.service, 'upstream')
  assert.equal(body.upstream.delayMs, 20)
  assert.equal(typeof body.durationMs, 'number')
  const stats = app.upstream.stats()
  assert.equal(stats.requests, 1)
  assert.equal(stats.errors, 0)
  assert.equal(stats.durationSeconds.count, 1)
})

test('optimized: sequential requests reuse keep-alive connections', async (t) => {
  const { app, upstream } = await startTestApp(t)
  for (let i = 0; i < 10; i++) assert.equal((await app.inject('/api/upstream/quote')).statusCode, 200)
  // undici marks a connection free a tick after its response ends, so a request sent at once
  // may open a second one; after that the two are reused.
  assert.ok(upstream.connections <= 2, `10 requests opened ${upstream.connections} connections`)
  const stats = app.upstream.stats()
  assert.equal(stats.requests, 10)
  assert.equal(stats.connections, upstream.connections, 'the connections stay open')
})

test('baseline: every request opens a new connection', async (t) => {
  const { app, upstream } = await startTestApp(t, { env: { DEMO_PROFILE: 'baseline' } })
  for (let i = 0; i < 10; i++) assert.equal((await app.inject('/api/upstream/quote')).statusCode, 200)
  assert.equal(upstream.connections, 10)
  assert.equal(app.upstream.stats().requests, 10)
})

test('concurrent requests show in running and pending, capped at UPSTREAM_CONNECTIONS', async (t) => {
  const held = await fakeUpstream(t, (res) => { held.waiting.push(res) })
  const { app } = await startTestApp(t, { env: { UPSTREAM_CONNECTIONS: '2' }, upstream: held.upstream })
  const responses = Promise.all(Array.from({ length: 4 }, () => app.inject('/api/upstream/quote')))
  await waitUntil(() => held.waiting.length === 2, { what: 'two requests at the upstream' })
  await waitUntil(() => app.upstream.stats().pending === 2, { what: 'two requests pending' })
  const busy = app.upstream.stats()
  assert.equal(busy.running, 2)
  assert.equal(busy.connections, 2)
  assert.equal(busy.free, 0)
  while (held.waiting.length > 0 || app.upstream.stats().requests < 4) {
    held.waiting.shift()?.end('{"ok":true}')
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.ok((await responses).every((res) => res.statusCode === 200))
  assert.equal(held.connections(), 2)
  assert.equal(app.upstream.stats().pending, 0)
})

test('a slow upstream is a 504 within the upstream timeout', async (t) => {
  const { app } = await startTestApp(t, { env: { UPSTREAM_TIMEOUT_MS: '150' } })
  const res = await app.inject('/api/upstream/quote?delay=10000')
  assert.equal(res.statusCode, 504)
  assert.equal(res.json().code, 'DEMO_ERR_UPSTREAM_TIMEOUT')
  assert.match(res.json().message, /within 150 ms/)
  const stats = app.upstream.stats()
  assert.equal(stats.errors, 1)
  assert.equal(stats.requests, 1)
})

test('an upstream that is down is a 502 naming the upstream', async (t) => {
  const upstream = await startUpstream()
  const { app } = await startTestApp(t, { upstream })
  await upstream.close()
  const res = await app.inject('/api/upstream/quote')
  assert.equal(res.statusCode, 502)
  assert.equal(res.json().code, 'DEMO_ERR_UPSTREAM_FAILED')
  assert.ok(res.json().message.includes(upstream.url), res.json().message)
  assert.equal(app.upstream.stats().errors, 1)
})

test('a 5xx answer is a 502 and counts as an error; a 4xx answer is a 502 that does not', async (t) => {
  const { app } = await startTestApp(t)
  await assert.rejects(app.upstream.getJson('/quote', { status: '503' }), (error: unknown) => {
    assert.ok(error instanceof DemoAppError)
    assert.equal(error.code, 'DEMO_ERR_UPSTREAM_FAILED')
    assert.equal(error.statusCode, 502)
    assert.match(error.message, /answered 503/)
    return true
  })
  assert.equal(app.upstream.stats().errors, 1)
  await assert.rejects(app.upstream.getJson('/nowhere'), /answered 404/)
  assert.equal(app.upstream.stats().errors, 1)
  assert.equal(app.upstream.stats().requests, 2)
})

test('an oversized upstream body is a 502, not a crash', async (t) => {
  const big = await fakeUpstream(t, (res) => { res.end(JSON.stringify({ padding: 'x'.repeat(4096) })) })
  const { app } = await startTestApp(t, { env: { UPSTREAM_MAX_RESPONSE_BYTES: '1024' }, upstream: big.upstream })
  const res = await app.inject('/api/upstream/quote')
  assert.equal(res.statusCode, 502)
  assert.equal(res.json().code, 'DEMO_ERR_UPSTREAM_FAILED')
  assert.match(res.json().message, /more than 1024 bytes/)
})

/** An upstream stand-in whose answers the test writes: `answer` gets each response, headers already set. */
async function fakeUpstream (t: TestContext, answer: (res: ServerResponse) => void): Promise<{ upstream: RunningUpstream, waiting: ServerResponse[], connections: () => number }> {
  let connections = 0
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json')
    answer(res)
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = (): Promise<void> => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  t.after(close)
  const upstream: RunningUpstream = { url: `http://127.0.0.1:${port}`, port, requests: 0, connections: 0, waiting: 0, close }
  return { upstream, waiting: [], connections: () => connections }
}
