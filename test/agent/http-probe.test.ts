import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import https from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { HttpProbe } from '../../agent/sources/http-probe.ts'
import type { HttpProbeOptions } from '../../agent/sources/http-probe.ts'
import { assertFailure, assertSuccess, deadline, sampleValue as value } from '../support/collect-assertions.ts'
import { createSelfSignedCertificate } from '../support/tls-fixtures.ts'
import { waitUntil } from '../support/wait.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Starts a server on 127.0.0.1:0 and closes it (and every connection) after the test. */
async function listen (t: TestContext, handler: Handler, server: http.Server = http.createServer()): Promise<{ server: http.Server, port: number }> {
  server.on('request', handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return { server, port: (server.address() as AddressInfo).port }
}

function probe (url: string, extra: Partial<HttpProbeOptions> = {}): HttpProbe {
  return new HttpProbe({ target: 'app', name: 'health', url, intervalSeconds: 10, timeoutSeconds: 5, bodyLimitBytes: 1024 * 1024, ...extra })
}

test('a 200 answer succeeds with every phase timed, non-negative, and labels from config', async (t) => {
  const { port } = await listen(t, (_req, res) => res.end('hello'))
  const result = await probe(`http://127.0.0.1:${port}/health`).collect(deadline())
  assertSuccess(result)
  assert.equal(value(result, 'probe_http_status_code'), 200)
  assert.equal(value(result, 'probe_http_content_length'), 5)
  assert.equal(value(result, 'probe_http_redirects'), 0)
  assert.equal(value(result, 'probe_http_ssl'), 0)
  assert.equal(value(result, 'probe_ssl_earliest_cert_expiry'), undefined)
  assert.equal(value(result, 'probe_failed_due_to_regex'), undefined, 'only reported when bodyRegex is set')
  const phases = result.families.find((f) => f.name === 'probe_http_duration_seconds')
  assert.ok(phases !== undefined && phases.type === 'gauge')
  assert.deepEqual(phases.samples.map((s) => s.labels.phase), ['resolve', 'connect', 'tls', 'processing', 'transfer'])
  for (const sample of phases.samples) assert.ok(sample.value >= 0 && Number.isFinite(sample.value), `${sample.labels.phase} = ${sample.value}`)
  assert.ok((value(result, 'probe_duration_seconds') ?? -1) >= 0)
  for (const family of result.families) {
    for (const sample of family.samples) {
      assert.equal(sample.labels.target, 'app')
      assert.equal(sample.labels.probe, 'health')
    }
  }
})

test('an unexpected status fails with http_status, then a 2xx succeeds', async (t) => {
  let status = 503
  const { port } = await listen(t, (_req, res) => { res.statusCode = status; res.end() })
  const instance = probe(`http://127.0.0.1:${port}/`)
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'http_status')
  assert.equal(value(failed, 'probe_http_status_code'), 503)
  assert.match(failed.failure?.message ?? '', /503/)
  status = 204
  assertSuccess(await instance.collect(deadline()))

  const explicit = probe(`http://127.0.0.1:${port}/`, { expectStatus: [418] })
  assertFailure(await explicit.collect(deadline()), 'http_status')
  status = 418
  assertSuccess(await explicit.collect(deadline()))
})

test('a body that does not match bodyRegex fails with body_mismatch, then a matching body succeeds', async (t) => {
  let body: Buffer = Buffer.from('status: degraded')
  const { port } = await listen(t, (_req, res) => res.end(body))
  const instance = probe(`http://127.0.0.1:${port}/`, { bodyRegex: /status: ok/ })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'body_mismatch')
  assert.equal(value(failed, 'probe_failed_due_to_regex'), 1)
  // Invalid UTF-8 around the text is replaced, not fatal.
  body = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('status: ok'), Buffer.from([0xe2, 0x82])])
  const ok = await instance.collect(deadline())
  assertSuccess(ok)
  assert.equal(value(ok, 'probe_failed_due_to_regex'), 0)
})

test('jsonEquals: a different value fails with body_mismatch, non-JSON with invalid_json, the expected value succeeds', async (t) => {
  let body = JSON.stringify({ status: 'down', checks: [{ ok: true }] })
  const { port } = await listen(t, (_req, res) => res.end(body))
  const instance = probe(`http://127.0.0.1:${port}/`, { jsonEquals: { path: '$.status', value: 'up' } })
  const mismatch = await instance.collect(deadline())
  assertFailure(mismatch, 'body_mismatch')
  assert.match(mismatch.failure?.message ?? '', /"down"/)
  body = '{"status": "up"'
  assertFailure(await instance.collect(deadline()), 'invalid_json')
  body = JSON.stringify({ status: 'up', checks: [{ ok: true }] })
  assertSuccess(await instance.collect(deadline()))

  const everyMatch = probe(`http://127.0.0.1:${port}/`, { jsonEquals: { path: '$.checks[*].ok', value: true } })
  assertSuccess(await everyMatch.collect(deadline()))
  body = JSON.stringify({ status: 'up', checks: [{ ok: true }, { ok: false }] })
  assertFailure(await everyMatch.collect(deadline()), 'body_mismatch')
  const nothing = probe(`http://127.0.0.1:${port}/`, { jsonEquals: { path: '$.missing', value: true } })
  assertFailure(await nothing.collect(deadline()), 'body_mismatch')
})

test('a closed port fails with refused, then a server on that port succeeds', async (t) => {
  const dead = http.createServer()
  dead.listen(0, '127.0.0.1')
  await once(dead, 'listening')
  const port = (dead.address() as AddressInfo).port
  dead.close()
  await once(dead, 'close')
  const instance = probe(`http://127.0.0.1:${port}/`)
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'refused')
  assert.equal(value(failed, 'probe_http_status_code'), 0)

  const alive = http.createServer((_req, res) => res.end('ok'))
  alive.listen(port, '127.0.0.1')
  await once(alive, 'listening')
  t.after(() => { alive.closeAllConnections(); alive.close() })
  assertSuccess(await instance.collect(deadline()))
})

test('a server that never answers fails with timeout at the deadline, then an answer succeeds', async (t) => {
  let answer = false
  const { server, port } = await listen(t, (_req, res) => { if (answer) res.end('ok') })
  const instance = probe(`http://127.0.0.1:${port}/`)
  const failed = await instance.collect(AbortSignal.timeout(200))
  assertFailure(failed, 'timeout')
  // The hung request's connection is closed, not left behind.
  await waitUntil(async () => (await connectionCount(server)) === 0, { what: 'the hung request\'s connection to close' })
  answer = true
  assertSuccess(await instance.collect(deadline()))
})

test('a body trickling in past the deadline fails with timeout, then a prompt body succeeds', async (t) => {
  let trickle = true
  const { port } = await listen(t, (_req, res) => {
    if (!trickle) { res.end('done'); return }
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('.')
    const timer = setInterval(() => res.write('.'), 20)
    timer.unref()
    res.on('close', () => clearInterval(timer))
  })
  const instance = probe(`http://127.0.0.1:${port}/`)
  const failed = await instance.collect(AbortSignal.timeout(1000))
  assertFailure(failed, 'timeout')
  assert.equal(value(failed, 'probe_http_status_code'), 200, 'the head arrived before the deadline')
  assert.match(failed.failure?.message ?? '', /body/)
  trickle = false
  assertSuccess(await instance.collect(deadline()))
})

test('a body over the limit fails with body_too_large and the connection is closed early, then a small body succeeds', async (t) => {
  let endless = true
  let serverSawClose: Promise<boolean> | undefined
  const { port } = await listen(t, (_req, res) => {
    if (!endless) { res.end('small'); return }
    // Writes forever: only the client closing the connection stops it.
    serverSawClose = new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished)))
    const chunk = Buffer.alloc(16 * 1024, 'x')
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) { /* fill until backpressure */ }
      if (!res.destroyed) res.once('drain', pump)
    }
    pump()
  })
  const instance = probe(`http://127.0.0.1:${port}/`, { bodyLimitBytes: 64 * 1024 })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'body_too_large')
  assert.equal(await serverSawClose, true, 'the server saw the connection closed before the body ended')
  endless = false
  assertSuccess(await instance.collect(deadline()))
})

test('a declared Content-Length over the limit fails before reading the body', async (t) => {
  let big = true
  const { port } = await listen(t, (_req, res) => {
    if (!big) { res.end('ok'); return }
    res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) })
    res.write('x')
  })
  const instance = probe(`http://127.0.0.1:${port}/`, { bodyLimitBytes: 1024 })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'body_too_large')
  assert.match(failed.failure?.message ?? '', /10485760/)
  big = false
  assertSuccess(await instance.collect(deadline()))
})

test('a redirect loop stops after 10 redirects with http_status, then a single redirect succeeds', async (t) => {
  let loop = true
  const { port } = await listen(t, (req, res) => {
    if (req.url === '/final') { res.end('ok'); return }
    res.writeHead(302, { location: loop ? '/loop' : '/final' })
    res.end()
  })
  const instance = probe(`http://user:s3cret@127.0.0.1:${port}/loop`)
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'http_status')
  assert.equal(value(failed, 'probe_http_redirects'), 10)
  assert.equal(value(failed, 'probe_http_status_code'), 302)
  assert.match(failed.failure?.message ?? '', /10 redirects/)
  assert.doesNotMatch(failed.failure?.message ?? '', /s3cret/)
  loop = false
  const ok = await instance.collect(deadline())
  assertSuccess(ok)
  assert.equal(value(ok, 'probe_http_redirects'), 1)

  const noFollow = probe(`http://127.0.0.1:${port}/loop`, { followRedirects: false, expectStatus: [302] })
  const first = await noFollow.collect(deadline())
  assertSuccess(first)
  assert.equal(value(first, 'probe_http_redirects'), 0)
})

test('a host that does not resolve fails with dns, then a resolvable one succeeds', async (t) => {
  const direct = await probe('http://outrigger-probe-test.invalid/').collect(deadline())
  assertFailure(direct, 'dns')
  // The same instance, sent to the unresolvable host by a redirect, then not.
  let unresolvable = true
  const { port } = await listen(t, (req, res) => {
    if (req.url === '/' && unresolvable) { res.writeHead(302, { location: 'http://outrigger-probe-test.invalid/' }); res.end(); return }
    res.end('ok')
  })
  const instance = probe(`http://127.0.0.1:${port}/`)
  assertFailure(await instance.collect(deadline()), 'dns')
  unresolvable = false
  assertSuccess(await instance.collect(deadline()))
})

test('https: an untrusted certificate fails with tls, then a trusted one succeeds and reports its expiry', async (t) => {
  const [untrusted, trusted] = await Promise.all([
    createSelfSignedCertificate({ days: 20 }),
    createSelfSignedCertificate({ days: 45 })
  ])
  const server = https.createServer({ key: untrusted.key, cert: untrusted.cert })
  const { port } = await listen(t, (_req, res) => res.end('secure'), server)
  const url = `https://127.0.0.1:${port}/`

  const withCa = probe(url, { tls: { ca: trusted.cert } })
  const failed = await withCa.collect(deadline())
  assertFailure(failed, 'tls')
  assert.equal(value(failed, 'probe_http_ssl'), 1)

  server.setSecureContext({ key: trusted.key, cert: trusted.cert })
  const ok = await withCa.collect(deadline())
  assertSuccess(ok)
  assert.equal(value(ok, 'probe_ssl_earliest_cert_expiry'), trusted.notAfterSeconds)
  assert.ok((value(ok, 'probe_http_duration_seconds', { phase: 'tls' }) ?? -1) >= 0)

  // Default trust (system roots) refuses a self-signed certificate; insecureSkipVerify accepts it.
  server.setSecureContext({ key: untrusted.key, cert: untrusted.cert })
  assertFailure(await probe(url).collect(deadline()), 'tls')
  const insecure = await probe(url, { tls: { insecureSkipVerify: true } }).collect(deadline())
  assertSuccess(insecure)
  assert.equal(value(insecure, 'probe_ssl_earliest_cert_expiry'), untrusted.notAfterSeconds)
})

async function connectionCount (server: http.Server): Promise<number> {
  return await new Promise((resolve, reject) => server.getConnections((error, count) => error == null ? resolve(count) : reject(error)))
}
