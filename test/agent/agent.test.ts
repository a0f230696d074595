import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { startAgent, type RunningAgent } from '../../agent/agent.ts'
import { loadConfigFile } from '../../agent/config/index.ts'
import { startFixtureApp } from '../support/fixture-app.ts'
import { freePort } from '../support/postgres.ts'

const TOKEN = 's3cret-agent-token'
const DB_PASSWORD = 'hunter2-db-password'

const histogram = { buckets: [{ le: 0.05, count: 3 }, { le: 0.1, count: 4 }], sum: 0.2, count: 5 }
const statsDocument = {
  schema: 'outrigger.stats/v1',
  service: { name: 'fixture', version: '1.0.0', profile: 'optimized' },
  pid: process.pid,
  startTimeSeconds: 1_700_000_000,
  http: { inFlight: 1, routes: [{ route: '/api/items/:id', method: 'GET', statusClass: '2xx', durationSeconds: histogram }] },
  caches: { items: { hits: 9, misses: 1, sets: 1, evictions: 0, entries: 1, bytes: 120, maxEntries: 1000, maxBytes: 1_000_000 } },
  dbPools: { main: { max: 8, total: 2, idle: 1, waiting: 0, acquireSeconds: histogram, acquireTimeouts: 0, errors: 0 } },
  httpClients: { upstream: { connections: 1, free: 1, pending: 0, running: 0, requests: 5, errors: 0, durationSeconds: histogram } }
}

function configYaml (appPort: number, deadPort: number, extraProbe = ''): string {
  return `
server:
  listen: 127.0.0.1:0
  auth:
    bearer: { token: "\${AGENT_TOKEN}" }
defaults: { interval: 1m, timeout: 5s }
targets:
  - name: app
    stats: { url: http://127.0.0.1:${appPort}/stats }
    probes:
      - name: health
        http: { url: http://127.0.0.1:${appPort}/health, jsonEquals: { path: "$.status", value: ok } }
      - name: port
        tcp: { address: 127.0.0.1:${appPort} }
      - name: db
        postgres: { url: "postgres://app:${DB_PASSWORD}@127.0.0.1:${deadPort}/app" }
${extraProbe}
    process: { pid: ${process.pid} }
`
}

async function get (agent: RunningAgent, path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<{ status: number, body: string, contentType: string | null }> {
  const response = await fetch(`${agent.url}${path}`, { headers })
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') }
}

async function setup (t: { after: (fn: () => Promise<void>) => void }): Promise<{ agent: RunningAgent, dir: string, appPort: number, deadPort: number, app: Server, logs: string[] }> {
  process.env.AGENT_TOKEN = TOKEN
  const fixture = await startFixtureApp(statsDocument)
  const { server: app, port: appPort } = fixture
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-agent-'))
  const running: { agent?: RunningAgent } = {}
  t.after(async () => {
    await running.agent?.close()
    await fixture.close()
    await rm(dir, { recursive: true, force: true })
  })
  const deadPort = await freePort()
  const configPath = join(dir, 'outrigger.yaml')
  await writeFile(configPath, configYaml(appPort, deadPort))
  const logs: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => { logs.push(line) } })
  const agent = await startAgent({ config: await loadConfigFile(configPath), configPath, logger })
  running.agent = agent
  await agent.collectNow()
  return { agent, dir, appPort, deadPort, app, logs }
}

test('one agent turns app stats, probes and process usage into metrics', async (t) => {
  const { agent } = await setup(t)
  const { status, body, contentType } = await get(agent, '/metrics')
  assert.equal(status, 200)
  assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/)
  assert.match(body, /^app_cache_hits_total\{target="app",cache="items"\} 9$/m)
  assert.match(body, /^app_http_requests_total\{target="app",route="\/api\/items\/:id",method="GET",status_class="2xx"\} 5$/m)
  assert.match(body, /^probe_success\{target="app",probe="health"\} 1$/m)
  assert.match(body, /^probe_success\{target="app",probe="port"\} 1$/m)
  assert.match(body, /^probe_success\{target="app",probe="db"\} 0$/m)
  assert.match(body, /^app_process_resident_memory_bytes\{target="app"\} \d+$/m)
  assert.match(body, /^outrigger_source_up\{target="app",source="stats"\} 1$/m)
  assert.match(body, /^outrigger_source_up\{target="app",source="postgres\/db"\} 0$/m)
  assert.match(body, /^outrigger_source_errors_total\{target="app",source="postgres\/db",reason="refused"\} 1$/m)
  assert.match(body, /^outrigger_build_info\{version="[^"]+",nodejs_version="v\d+/m)
  assert.match(body, /^outrigger_config_last_reload_successful 1$/m)
  assert.ok(!body.includes(DB_PASSWORD))
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })
  assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'promtool check metrics prints nothing')
})

test('OpenMetrics is served when the scraper asks for it', async (t) => {
  const { agent } = await setup(t)
  const { body, contentType } = await get(agent, '/metrics', { authorization: `Bearer ${TOKEN}`, accept: 'application/openmetrics-text; version=1.0.0' })
  assert.match(contentType ?? '', /^application\/openmetrics-text/)
  assert.match(body, /^# TYPE app_cache_hits counter$/m)
  assert.match(body, /# EOF\n$/)
})

test('credentials are required except on the health endpoints, and secrets never leak', async (t) => {
  const { agent, logs } = await setup(t)
  assert.equal((await get(agent, '/metrics', {})).status, 401)
  assert.equal((await get(agent, '/metrics', { authorization: 'Bearer wrong' })).status, 401)
  assert.equal((await get(agent, '/api/targets', {})).status, 401)
  assert.equal((await get(agent, '/healthz', {})).status, 200)
  assert.equal((await get(agent, '/readyz', {})).status, 200)
  const targets = await get(agent, '/api/targets')
  assert.equal(targets.status, 200)
  const report = JSON.parse(targets.body) as { targets: Array<{ name: string, sources: Array<{ source: string, health: string, lastError: { reason: string } | null }> }> }
  const db = report.targets[0]?.sources.find((source) => source.source === 'postgres/db')
  assert.equal(db?.health, 'down')
  assert.equal(db?.lastError?.reason, 'refused')
  const page = await get(agent, '/')
  for (const text of [targets.body, page.body, logs.join('\n'), (await get(agent, '/metrics')).body]) {
    assert.ok(!text.includes(DB_PASSWORD), 'the database password appears nowhere')
    assert.ok(!text.includes(TOKEN), 'the bearer token appears nowhere')
  }
})

test('a failing target flips probe_success to 0 with a reason, and back when it returns', async (t) => {
  const { agent, app, appPort } = await setup(t)
  app.closeAllConnections()
  await new Promise<void>((resolve) => app.close(() => resolve()))
  await agent.collectNow()
  let body = (await get(agent, '/metrics')).body
  assert.match(body, /^probe_success\{target="app",probe="health"\} 0$/m)
  assert.match(body, /^outrigger_source_errors_total\{target="app",source="http\/health",reason="refused"\} 1$/m)
  assert.match(body, /^outrigger_source_up\{target="app",source="stats"\} 0$/m)
  // The last good app stats stay until they go stale, so one failed scrape leaves no gap.
  assert.match(body, /^app_cache_hits_total\{target="app",cache="items"\} 9$/m)
  await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve))
  await agent.collectNow()
  body = (await get(agent, '/metrics')).body
  assert.match(body, /^probe_success\{target="app",probe="health"\} 1$/m)
  assert.match(body, /^outrigger_source_up\{target="app",source="stats"\} 1$/m)
})

test('reload applies a good config and refuses a bad one, keeping the running one', async (t) => {
  const { agent, dir, appPort, deadPort } = await setup(t)
  const configPath = join(dir, 'outrigger.yaml')
  await writeFile(configPath, configYaml(appPort, deadPort, `      - name: second\n        tcp: { address: 127.0.0.1:${appPort} }`))
  assert.equal(await agent.reload(), true)
  await agent.collectNow()
  let body = (await get(agent, '/metrics')).body
  assert.match(body, /^probe_success\{target="app",probe="second"\} 1$/m)

  await writeFile(configPath, 'targets:\n  - name: app\n    probes: [{ name: x, htp: {} }]\n')
  const response = await fetch(`${agent.url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(response.status, 500)
  assert.match(await response.text(), /refused/)
  await agent.collectNow()
  body = (await get(agent, '/metrics')).body
  assert.match(body, /^outrigger_config_last_reload_successful 0$/m)
  assert.match(body, /^probe_success\{target="app",probe="second"\} 1$/m, 'the old config keeps running')

  await rm(configPath)
  assert.equal(await agent.reload(), false, 'a deleted config file is refused too')
})
