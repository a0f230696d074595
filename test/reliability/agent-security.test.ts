/**
 * The agent's HTTP server as an attacker meets it: credentials over TLS, open paths, requests
 * that try to make the agent reach somewhere it was not configured to (SSRF), and oversized
 * headers and bodies.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer } from '../support/fault-server.ts'
import { createSelfSignedCertificate } from '../support/tls-fixtures.ts'
import { startInProcessAgent } from './in-process-agent.ts'
import { rawExchange } from './raw-http.ts'

const USER = 'prometheus'
const PASSWORD = 'correct horse battery staple'
const TOKEN = 'agent-bearer-token-0123456789'

interface Answer { status: number, body: string, headers: IncomingMessage['headers'] }

/** One HTTPS request trusting `ca`; the body read in full. */
async function httpsRequest (url: string, ca: string, options: { method?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  const request = https.request(url, { method: options.method ?? 'GET', headers: options.headers, ca, agent: false })
  request.end()
  const [response] = await once(request, 'response') as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }
}

function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

test('TLS with basic auth: missing, wrong or malformed credentials get 401; the right ones get through; health stays open', async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  const certificate = await createSelfSignedCertificate()
  const yaml = stringify({
    server: {
      listen: '127.0.0.1:0',
      auth: { basic: { username: USER, password: '${AGENT_PASSWORD}' } },
      tls: { certFile: 'agent.crt', keyFile: 'agent.key' }
    },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  })
  const { agent } = await startInProcessAgent(t, yaml, {
    env: { AGENT_PASSWORD: PASSWORD },
    files: { 'agent.crt': certificate.cert, 'agent.key': certificate.key }
  })
  assert.match(agent.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const get = (path: string, headers: Record<string, string> = {}): Promise<Answer> => httpsRequest(`${agent.url}${path}`, certificate.cert, { headers })

  const refused: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['wrong password', { authorization: basic(USER, 'wrong') }],
    ['wrong user', { authorization: basic('admin', PASSWORD) }],
    ['password as user', { authorization: basic(PASSWORD, USER) }],
    ['empty credentials', { authorization: basic('', '') }],
    ['no colon', { authorization: `Basic ${Buffer.from(`${USER}${PASSWORD}`).toString('base64')}` }],
    ['not base64', { authorization: 'Basic %%%not-base64%%%' }],
    ['password with a suffix', { authorization: basic(USER, `${PASSWORD}x`) }],
    ['password prefix', { authorization: basic(USER, PASSWORD.slice(0, -1)) }],
    ['bearer instead of basic', { authorization: `Bearer ${PASSWORD}` }],
    ['scheme only', { authorization: 'Basic' }]
  ]
  for (const path of ['/metrics', '/api/targets', '/']) {
    for (const [what, headers] of refused) {
      const answer = await get(path, headers)
      assert.equal(answer.status, 401, `${path} with ${what}`)
      assert.equal(answer.headers['www-authenticate'], 'Basic realm="outrigger"', `${path} with ${what}`)
      assert.doesNotMatch(answer.body, /outrigger_|targets/, `${path} with ${what}: nothing is served`)
    }
    const ok = await get(path, { authorization: basic(USER, PASSWORD) })
    assert.equal(ok.status, 200, path)
    // The scheme name is case-insensitive.
    assert.equal((await get(path, { authorization: basic(USER, PASSWORD).replace('Basic', 'basic') })).status, 200, path)
  }
  const reload = await httpsRequest(`${agent.url}/-/reload`, certificate.cert, { method: 'POST' })
  assert.equal(reload.status, 401, 'reload needs credentials too')
  assert.equal((await get('/healthz')).status, 200, '/healthz is open by default')
  assert.notEqual((await get('/readyz')).status, 401, '/readyz is open by default')

  // Plain HTTP to the TLS port gets no metrics.
  const plain = await fetch(agent.url.replace('https:', 'http:') + '/metrics').then(async (response) => await response.text(), () => '')
  assert.doesNotMatch(plain, /outrigger_build_info/)
  // A client that does not trust the certificate cannot connect.
  await assert.rejects(fetch(`${agent.url}/healthz`), 'the self-signed certificate is not trusted by default')
})

test('bearer auth: open paths are what the config says, nothing more', async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  const closed = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0', auth: { bearer: { token: TOKEN }, openPaths: [] } },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  }))
  for (const path of ['/healthz', '/readyz', '/metrics', '/api/targets', '/', '/nothing']) {
    assert.equal((await closed.get(path)).status, 401, `${path} needs the token when openPaths is empty`)
    assert.equal((await closed.get(path, { authorization: `Bearer ${TOKEN}x` })).status, 401, path)
    assert.equal((await closed.get(path, { authorization: `Bearer ${TOKEN.slice(1)}` })).status, 401, path)
    assert.equal((await closed.get(path, { authorization: TOKEN })).status, 401, `${path}: the token without its scheme`)
    assert.notEqual((await closed.get(path, { authorization: `Bearer ${TOKEN}` })).status, 401, path)
    assert.notEqual((await closed.get(path, { authorization: `bearer ${TOKEN}` })).status, 401, `${path}: the scheme is case-insensitive`)
  }

  const open = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0', auth: { bearer: { token: TOKEN }, openPaths: ['/metrics'] } },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  }))
  assert.equal((await open.get('/metrics')).status, 200)
  // An open path is matched exactly: a query string does not widen it, a look-alike is not it.
  assert.equal((await open.get('/metrics?x=/api/targets')).status, 200)
  assert.equal((await open.get('/api/targets')).status, 401)
  assert.equal((await open.get('/api/targets?/metrics')).status, 401)
  assert.equal((await open.get('/metrics/../api/targets')).status, 401, 'fetch normalises the dots; the server sees /api/targets')
  assert.equal((await rawExchange(open.agent.url, 'GET /metrics/../api/targets HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).status, 401, 'raw dots are not normalised into an open path')
  assert.equal((await rawExchange(open.agent.url, 'GET //metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).status, 401)
  assert.equal((await open.get('/healthz')).status, 401, 'the default open paths are replaced, not extended')
})

test('no request can make the agent reach an address that is not in its config (SSRF)', async (t) => {
  // The canary counts every connection: nothing below may reach it.
  let canaryConnections = 0
  const canary = createServer((_req, res) => res.end('canary'))
  canary.on('connection', () => { canaryConnections++ })
  canary.listen(0, '127.0.0.1')
  await once(canary, 'listening')
  t.after(() => { canary.closeAllConnections(); canary.close() })
  const canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`
  const canaryHost = new URL(canaryUrl).host

  const app = await startFaultServer()
  t.after(() => app.close())
  const { agent, configPath, get, sources } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` }, probes: [{ name: 'health', http: { url: `${app.url}/health` } }] }]
  }))
  // A config on disk naming the canary: a request that could point reload at it would be an SSRF.
  const evilConfig = join(dirname(configPath), 'evil.yaml')
  await writeFile(evilConfig, stringify({ targets: [{ name: 'evil', stats: { url: `${canaryUrl}/stats` } }] }))

  const target = encodeURIComponent(`${canaryUrl}/stats`)
  for (const path of [
    `/metrics?target=${target}`,
    `/metrics?module=http_2xx&target=${target}`,
    `/probe?target=${target}`,
    `/api/targets?target=${target}&url=${target}`,
    `/?target=${target}`,
    `/metrics?config=${encodeURIComponent(evilConfig)}`,
    `/api/targets?url[]=${target}`
  ]) {
    const answer = await get(path, { host: canaryHost, 'x-forwarded-host': canaryHost, 'x-forwarded-for': '127.0.0.1', forwarded: `host=${canaryHost}` })
    assert.ok(answer.status === 200 || answer.status === 404, `${path}: ${answer.status}`)
  }
  for (const path of [`/-/reload?config=${encodeURIComponent(evilConfig)}`, `/-/reload?target=${target}`]) {
    const answer = await fetch(`${agent.url}${path}`, { method: 'POST' })
    assert.equal(answer.status, 200, 'reload reads the configured file, whatever the query says')
  }
  // A reload body naming another config is refused unread.
  const withBody = await fetch(`${agent.url}/-/reload`, { method: 'POST', body: stringify({ targets: [{ name: 'evil', stats: { url: `${canaryUrl}/stats` } }] }) })
  assert.equal(withBody.status, 413)
  // Proxy-style absolute-form requests are not proxied.
  for (const line of [`GET ${canaryUrl}/stats HTTP/1.1`, `CONNECT ${canaryHost} HTTP/1.1`, `GET ${canaryUrl}/metrics HTTP/1.1`]) {
    const answer = await rawExchange(agent.url, `${line}\r\nhost: ${canaryHost}\r\nconnection: close\r\n\r\n`)
    assert.ok(answer.status === 404 || answer.status === 405 || answer.status === 400 || answer.status === 0, `${line}: ${answer.status}`)
    assert.doesNotMatch(answer.text, /canary/)
  }

  await agent.collectNow()
  assert.deepEqual([...(await sources()).keys()].sort(), ['app/http/health', 'app/stats'], 'only the configured sources exist')
  assert.equal(canaryConnections, 0, 'the canary was never contacted')
})

test('header and body limits: a 20 KiB header block gets 431, a request body is refused before it is read', async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  const { agent, get } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  }))
  const big = await get('/metrics', { 'x-padding': 'x'.repeat(20 * 1024) })
  assert.equal(big.status, 431)
  assert.equal((await get('/metrics', { 'x-padding': 'x'.repeat(8 * 1024) })).status, 200, 'a header block under the limit is fine')

  // 50 MB streamed at /-/reload and /metrics: the server answers 413 and closes long before the end.
  for (const [method, path] of [['POST', '/-/reload'], ['GET', '/metrics']] as const) {
    const declared = await rawExchange(agent.url, `${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n`, { streamBytes: 50 * 1024 * 1024 })
    assert.equal(declared.status, 413, `${method} ${path} with a declared body`)
    assert.ok(declared.bytesWritten < 20 * 1024 * 1024, `${method} ${path}: the client got to send ${declared.bytesWritten} bytes`)
    const chunked = await rawExchange(agent.url, `${method} ${path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`, { streamBytes: 50 * 1024 * 1024, chunked: true })
    assert.equal(chunked.status, 413, `${method} ${path} with a chunked body`)
    assert.ok(chunked.bytesWritten < 20 * 1024 * 1024, `${method} ${path}: the client got to send ${chunked.bytesWritten} bytes`)
  }
  // An empty POST, as curl -X POST and fetch send it, still reloads.
  assert.equal((await fetch(`${agent.url}/-/reload`, { method: 'POST' })).status, 200)
})
