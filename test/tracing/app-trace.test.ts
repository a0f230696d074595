/**
 * Across the process boundary: the agent probes the demo app (started as its own process, as in
 * production), both export to one trace receiver, and the app's spans continue the agent's trace —
 * probe run → HTTP client span → the app's request span → its Postgres query or upstream call.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { startAgent } from '../../agent/agent.ts'
import { parseConfigText } from '../../agent/config/index.ts'
import { startUpstream } from '../../demo-app/upstream/server.ts'
import { freePort, startPostgres } from '../support/postgres.ts'
import { startTraceReceiver } from '../support/trace-receiver.ts'
import type { ReceivedSpan } from '../support/trace-receiver.ts'
import { waitUntil } from '../support/wait.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The spans from `span` up to its trace's root, `span` first. */
function ancestry (spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const chain = [span]
  let current: ReceivedSpan | undefined = span
  while (current?.parentSpanId !== undefined) {
    const parentId: string = current.parentSpanId
    current = spans.find((candidate) => candidate.traceId === span.traceId && candidate.spanId === parentId)
    if (current !== undefined) chain.push(current)
  }
  return chain
}

test('one trace runs from the agent\'s probe through the app\'s request span to its database query and its upstream call', async (t) => {
  const traces = await startTraceReceiver()
  t.after(() => traces.close())
  const pg = await startPostgres()
  t.after(() => pg.close())
  const upstream = await startUpstream()
  t.after(() => upstream.close())

  const port = await freePort()
  const app = spawn(process.execPath, ['demo-app/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: pg.url,
      UPSTREAM_URL: upstream.url,
      SEED_ROWS: '20',
      LOG_LEVEL: 'warn',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: traces.otlpEndpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'demo-app'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-20_000) }
  app.stdout.on('data', keep)
  app.stderr.on('data', keep)
  t.after(async () => {
    if (app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((resolve) => app.once('exit', resolve))
      app.kill('SIGTERM')
      await exited
    }
  })
  const base = `http://127.0.0.1:${port}`
  await waitUntil(async () => {
    if (app.exitCode !== null) throw new Error(`the demo app exited with ${app.exitCode}:\n${output}`)
    return await fetch(`${base}/health`).then((response) => response.ok, () => false)
  }, { what: 'the demo app to answer /health', timeoutMs: 60_000, intervalMs: 100, details: () => output })

  const config = await parseConfigText(`
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint}, serviceName: outrigger }
targets:
  - name: demo
    probes:
      - name: quote
        http: { url: ${base}/api/items/1/quote }
`, { env: {} })
  const agent = await startAgent({ config, logger: pino({ level: 'silent' }) })
  t.after(() => agent.close())
  await agent.collectNow()

  const isQuery = (span: ReceivedSpan): boolean => span.serviceName === 'demo-app' && span.kind === 'client' && span.attributes['db.system.name'] === 'postgresql' && /FROM items/.test(String(span.attributes['db.query.text']))
  const isUpstreamCall = (span: ReceivedSpan): boolean => span.serviceName === 'demo-app' && span.kind === 'client' && String(span.attributes['url.full'] ?? '').includes('/quote')
  const rootedInProbe = (spans: readonly ReceivedSpan[], span: ReceivedSpan): boolean => ancestry(spans, span).at(-1)?.name === 'probe http/quote'
  const spans = await traces.waitFor((all) =>
    all.some((span) => isQuery(span) && rootedInProbe(all, span)) &&
    all.some((span) => isUpstreamCall(span) && rootedInProbe(all, span)),
  { what: 'a query span and an upstream span rooted in the probe run', timeoutMs: 30_000 })
  assert.deepEqual(traces.decodeErrors, [])

  const query = spans.find((span) => isQuery(span) && rootedInProbe(spans, span)) as ReceivedSpan
  const call = spans.find((span) => isUpstreamCall(span) && rootedInProbe(spans, span)) as ReceivedSpan
  assert.equal(query.traceId, call.traceId, 'the query and the upstream call are in one trace')

  const queryChain = ancestry(spans, query)
  const request = queryChain.find((span) => span.serviceName === 'demo-app' && span.kind === 'server')
  assert.ok(request !== undefined, `an app request span above the query: ${queryChain.map((span) => `${span.serviceName}:${span.name}`).join(' ← ')}`)
  assert.equal(request.name, 'GET /api/items/:id/quote')
  assert.equal(request.attributes['http.route'], '/api/items/:id/quote')
  const agentClient = queryChain[queryChain.indexOf(request) + 1]
  assert.equal(agentClient?.serviceName, 'outrigger', 'the app\'s request span is a child of the agent\'s client span')
  assert.equal(agentClient?.kind, 'client')
  assert.equal(request.parentSpanId, agentClient?.spanId)
  assert.equal(queryChain.at(-1)?.serviceName, 'outrigger')
  assert.equal(query.attributes['server.port'], pg.port)

  const callChain = ancestry(spans, call)
  assert.ok(callChain.includes(request), 'the upstream call hangs under the same app request span')
  assert.equal(call.attributes['http.request.method'], 'GET')
  assert.equal(call.attributes['http.response.status_code'], 200)
})
