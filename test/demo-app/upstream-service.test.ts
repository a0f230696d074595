import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadUpstreamConfig } from '../../demo-app/upstream/config.ts'
import { startUpstream } from '../../demo-app/upstream/server.ts'
import { waitUntil } from '../support/wait.ts'

test('the upstream answers /quote with JSON after the configured latency, or ?delay', async (t) => {
  const upstream = await startUpstream({ latencyMs: 5 })
  t.after(() => upstream.close())
  const res = await fetch(`${upstream.url}/quote`)
  assert.equal(res.status, 200)
  const body = await res.json() as { service: string, delayMs: number }
  assert.equal(body.service, 'upstream')
  assert.equal(body.delayMs, 5)
  const delayed = await (await fetch(`${upstream.url}/quote?delay=1`)).json() as { delayMs: number }
  assert.equal(delayed.delayMs, 1)
  assert.equal(upstream.requests, 2)
})

test('the upstream can be told to fail, rejects bad parameters, and has a health route', async (t) => {
  const upstream = await startUpstream()
  t.after(() => upstream.close())
  assert.equal((await fetch(`${upstream.url}/quote?status=503`)).status, 503)
  const bad = await fetch(`${upstream.url}/quote?delay=soon`)
  assert.equal(bad.status, 400)
  assert.match(((await bad.json()) as { message: string }).message, /delay/)
  assert.equal((await fetch(`${upstream.url}/quote?delay=60001`)).status, 400)
  assert.equal((await fetch(`${upstream.url}/health`)).status, 200)
  assert.equal((await fetch(`${upstream.url}/elsewhere`)).status, 404)
})

test('close() drops delayed answers and is safe to call twice', async () => {
  const upstream = await startUpstream()
  const pending = fetch(`${upstream.url}/quote?delay=60000`).then(() => 'answered', () => 'dropped')
  await waitUntil(() => upstream.waiting === 1, { what: 'the request to reach the upstream' })
  await Promise.all([upstream.close(), upstream.close()])
  assert.equal(await pending, 'dropped')
})

test('the upstream environment is validated', () => {
  assert.deepEqual(loadUpstreamConfig({}), { port: 8081, host: '127.0.0.1', latencyMs: 0 })
  assert.deepEqual(loadUpstreamConfig({ PORT: '9000', UPSTREAM_LATENCY_MS: '25' }), { port: 9000, host: '127.0.0.1', latencyMs: 25 })
  assert.throws(() => loadUpstreamConfig({ UPSTREAM_LATENCY_MS: 'slow' }), /UPSTREAM_LATENCY_MS must be a whole number.*got "slow"/)
})
