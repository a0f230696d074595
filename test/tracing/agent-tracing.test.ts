/**
 * The agent's traces as a backend receives them: real agents export to the test trace receiver
 * over each transport, probing real servers on loopback.
 */
import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { test } from 'node:test'
import pino from 'pino'
import { startAgent } from '../../agent/agent.ts'
import type { RunningAgent } from '../../agent/agent.ts'
import { parseConfigText } from '../../agent/config/index.ts'
import type { Environment } from '../../agent/config/index.ts'
import { freePort, startPostgres } from '../support/postgres.ts'
import { startTraceReceiver } from '../support/trace-receiver.ts'
import type { ReceivedSpan, TraceReceiver } from '../support/trace-receiver.ts'
import { startFixtureApp, type FixtureApp } from '../support/fixture-app.ts'
import { waitUntil } from '../support/wait.ts'

type After = { after: (fn: () => Promise<void>) => void }

const statsDocument = {
  schema: 'outrigger.stats/v1',
  service: { name: 'fixture', version: '1.0.0', profile: 'optimized' },
  pid: process.pid,
  startTimeSeconds: 1_700_000_000,
  http: { inFlight: 0, routes: [] },
  caches: {},
  dbPools: {},
  httpClients: {}
}

/** The fixture app for one test, closed after it. */
async function startApp (t: After): Promise<FixtureApp> {
  const app = await startFixtureApp(statsDocument)
  t.after(() => app.close())
  return app
}

async function receiver (t: After): Promise<TraceReceiver> {
  const started = await startTraceReceiver()
  t.after(() => started.close())
  return started
}

/**
 * Starts an agent on `yaml`. Its scheduler makes one first run of each source within 2 s by
 * itself, besides those the tests ask for with `collectNow()`; assertions tie requests to spans by
 * their `traceparent` rather than by order.
 */
async function agentWith (t: After, yaml: string, env: Environment = {}): Promise<RunningAgent> {
  const config = await parseConfigText(yaml, { env })
  const agent = await startAgent({ config, logger: pino({ level: 'silent' }) })
  t.after(() => agent.close())
  return agent
}

async function metrics (agent: RunningAgent, accept?: string): Promise<string> {
  const response = await fetch(`${agent.url}/metrics`, accept === undefined ? {} : { headers: { accept } })
  return await response.text()
}

function byName (spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const span = spans.find((candidate) => candidate.name === name)
  assert.ok(span !== undefined, `no span named ${name}; got ${spans.map((s) => s.name).join(', ')}`)
  return span
}

/** The client span a request's `traceparent` names, and its run span. */
function spansOfRequest (spans: readonly ReceivedSpan[], headers: IncomingHttpHeaders | undefined): { run: ReceivedSpan, exchange: ReceivedSpan } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(headers?.traceparent))
  assert.ok(match !== null, `a sampled traceparent, got ${String(headers?.traceparent)}`)
  const exchange = spans.find((span) => span.traceId === match[1] && span.spanId === match[2])
  assert.ok(exchange !== undefined, `no span ${match[2]} in trace ${match[1]}`)
  const run = spans.find((span) => span.traceId === exchange.traceId && span.spanId === exchange.parentSpanId)
  assert.ok(run !== undefined, 'the client span has its run span as parent')
  return { run, exchange }
}

function childrenOf (spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId)
}

test('OTLP/protobuf: each run is a span, each HTTP exchange a client child whose traceparent the target received', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const deadPort = await freePort()
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint}, serviceName: from-file }
targets:
  - name: app
    stats: { url: http://127.0.0.1:${app.port}/stats }
    probes:
      - name: health
        http: { url: "http://probe:s3cret@127.0.0.1:${app.port}/health?token=t0ken&page=2" }
      - name: down
        http: { url: http://127.0.0.1:${deadPort}/health }
      - name: port
        tcp: { address: 127.0.0.1:${app.port} }
`, { OTEL_SERVICE_NAME: 'outrigger-under-test' })
  await agent.collectNow()
  const spans = await traces.waitFor((all) => all.length >= 7, { what: '4 run spans and 3 client spans' })
  assert.deepEqual(traces.decodeErrors, [])
  assert.ok(spans.every((span) => span.transport === 'otlp-protobuf'))
  assert.ok(spans.every((span) => span.serviceName === 'outrigger-under-test'), 'OTEL_SERVICE_NAME wins over the file')

  const healthRequest = app.requests.find((request) => request.url.startsWith('/health'))
  const { run: health, exchange } = spansOfRequest(spans, healthRequest?.headers)
  assert.equal(health.name, 'probe http/health')
  assert.equal(health.kind, 'internal')
  assert.equal(health.parentSpanId, undefined)
  assert.equal(health.status.code, 'unset')
  assert.equal(health.attributes['outrigger.target'], 'app')
  assert.equal(health.attributes['outrigger.source'], 'http/health')
  assert.equal(health.attributes['http.request.method'], 'GET')
  assert.equal(health.attributes['http.response.status_code'], 200)
  assert.equal(health.attributes['url.full'], `http://REDACTED:REDACTED@127.0.0.1:${app.port}/health?token=REDACTED&page=2`)
  assert.ok(!JSON.stringify(spans, (_key, value: unknown) => typeof value === 'bigint' ? String(value) : value).includes('s3cret'))

  assert.deepEqual(childrenOf(spans, health), [exchange])
  assert.equal(exchange.name, 'GET')
  assert.equal(exchange.kind, 'client')
  assert.equal(exchange.attributes['server.address'], '127.0.0.1')
  assert.equal(exchange.attributes['server.port'], app.port)
  assert.equal(exchange.attributes['http.response.status_code'], 200)
  const events = exchange.events.map((event) => event.name)
  for (const phase of ['tcp.connected', 'request.sent', 'response.first_byte', 'response.end']) assert.ok(events.includes(phase), `event ${phase} in ${events.join(', ')}`)

  const scrape = spansOfRequest(spans, app.requests.find((request) => request.url === '/stats')?.headers).run
  assert.equal(scrape.name, 'scrape stats')

  const down = byName(spans, 'probe http/down')
  assert.equal(down.status.code, 'error')
  assert.match(down.status.message ?? '', /ECONNREFUSED/)
  assert.equal(down.attributes['outrigger.failure.reason'], 'refused')
  const failedExchange = childrenOf(spans, down)[0]
  assert.equal(failedExchange?.status.code, 'error')
  assert.equal(failedExchange?.attributes['error.type'], 'refused')

  const tcp = byName(spans, 'probe tcp/port')
  assert.equal(tcp.attributes['server.port'], app.port)
  assert.equal(tcp.attributes['network.transport'], 'tcp')
  assert.equal(new Set([health.traceId, scrape.traceId, down.traceId, tcp.traceId]).size, 4, 'every run starts its own trace')

  const body = await metrics(agent)
  assert.match(body, /^outrigger_trace_spans_exported_total\{exporter="otlp",result="success"\} [1-9]\d*$/m)
  assert.match(body, /^outrigger_trace_export_failures_total\{exporter="otlp"\} 0$/m)
  assert.match(body, /^outrigger_trace_spans_dropped_total\{exporter="otlp"\} 0$/m)
})

test('OTLP/JSON: the same spans, JSON-encoded', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, protocol: http/protobuf }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`, { OTEL_EXPORTER_OTLP_ENDPOINT: traces.otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })
  await agent.collectNow()
  const spans = await traces.waitFor((all) => all.length >= 2)
  assert.deepEqual(traces.requests.map((request) => request.contentType), ['application/json'])
  const run = byName(spans, 'probe http/health')
  assert.equal(childrenOf(spans, run)[0]?.attributes['http.response.status_code'], 200)
})

test('Postgres probe: connect and query client spans with the database attributes, never the password', async (t) => {
  const traces = await receiver(t)
  const pg = await startPostgres()
  t.after(() => pg.close())
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpTracesUrl} }
targets:
  - name: app
    probes:
      - name: db
        postgres: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, password: "${pg.password}", database: ${pg.database}, query: SELECT 1 }
`)
  await agent.collectNow()
  const spans = await traces.waitFor((all) => all.length >= 3)
  const run = byName(spans, 'probe postgres/db')
  assert.equal(run.status.code, 'unset')
  assert.equal(run.attributes['db.system.name'], 'postgresql')
  assert.equal(run.attributes['db.namespace'], pg.database)
  const children = childrenOf(spans, run)
  assert.deepEqual(children.map((span) => span.name).sort(), ['postgresql connect', 'postgresql query'])
  const query = byName(children, 'postgresql query')
  assert.equal(query.kind, 'client')
  assert.equal(query.attributes['db.query.text'], 'SELECT 1')
  assert.equal(query.attributes['server.port'], pg.port)
  if (pg.password !== '') assert.ok(!JSON.stringify(spans, (_key, value: unknown) => typeof value === 'bigint' ? String(value) : value).includes(pg.password))
})

test('Jaeger thrift over HTTP: binary Batch with parent/child links and error status', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const deadPort = await freePort()
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: jaeger, endpoint: ${traces.jaegerEndpoint}, serviceName: outrigger-jaeger }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
      - name: down
        tcp: { address: 127.0.0.1:${deadPort} }
`)
  await agent.collectNow()
  const spans = await traces.waitFor((all) => all.length >= 3)
  assert.deepEqual(traces.decodeErrors, [])
  assert.ok(spans.every((span) => span.transport === 'jaeger-http' && span.serviceName === 'outrigger-jaeger'))
  const { run, exchange } = spansOfRequest(spans, app.requests[0]?.headers)
  assert.equal(run.name, 'probe http/health')
  assert.equal(exchange.kind, 'client')
  assert.equal(exchange.attributes['http.request.method'], 'GET')
  const down = byName(spans, 'probe tcp/down')
  assert.equal(down.status.code, 'error')
  assert.equal(down.attributes['outrigger.failure.reason'], 'refused')
})

test('Jaeger thrift over UDP: emitBatch datagrams to the agent port', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: jaeger, jaegerAgent: "127.0.0.1:1" }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`, { OTEL_EXPORTER_JAEGER_AGENT_PORT: String(traces.udpPort) })
  await agent.collectNow()
  const spans = await traces.waitFor((all) => all.length >= 2)
  assert.deepEqual(traces.decodeErrors, [])
  assert.ok(spans.every((span) => span.transport === 'jaeger-udp-binary'))
  const run = byName(spans, 'probe http/health')
  assert.equal(childrenOf(spans, run)[0]?.attributes['http.response.status_code'], 200)
})

test('exporter none: nothing is sent, no traceparent goes out, no trace metrics', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint} }
targets:
  - name: app
    stats: { url: http://127.0.0.1:${app.port}/stats }
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`, { OTEL_TRACES_EXPORTER: 'none' })
  await agent.collectNow()
  await agent.collectNow()
  // close() would flush anything queued: after it, nothing can still be on its way.
  await agent.close()
  assert.deepEqual(traces.requests, [])
  assert.ok(app.requests.length >= 4)
  assert.ok(app.requests.every((request) => request.headers.traceparent === undefined))
})

test('with the receiver down the agent keeps probing and counts the failed exports', async (t) => {
  const app = await startApp(t)
  const deadPort = await freePort()
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: http://127.0.0.1:${deadPort} }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`)
  await agent.collectNow()
  let last = ''
  const body = await waitUntil(async () => {
    last = await metrics(agent)
    return /^outrigger_trace_export_failures_total\{exporter="otlp"\} [1-9]/m.test(last) ? last : undefined
  }, { what: 'an export failure to be counted', timeoutMs: 20_000, details: () => last.split('\n').filter((line) => line.startsWith('outrigger_trace')).join('\n') })
  assert.match(body, /^outrigger_trace_spans_exported_total\{exporter="otlp",result="failure"\} [1-9]\d*$/m)
  assert.match(body, /^outrigger_trace_spans_exported_total\{exporter="otlp",result="success"\} 0$/m)
  assert.match(body, /^probe_success\{target="app",probe="health"\} 1$/m)
  const runs = (text: string): number => Number(/^outrigger_source_runs_total\{target="app",source="http\/health"\} (\d+)$/m.exec(text)?.[1])
  const before = runs(body)
  await agent.collectNow()
  await agent.collectNow()
  assert.ok(runs(await metrics(agent)) >= before + 1, 'probing goes on')
})

test('OTEL_TRACES_SAMPLER=always_off: the traceparent says not sampled, nothing is exported, no exemplar', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint}, sampler: always_on }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`, { OTEL_TRACES_SAMPLER: 'always_off' })
  await agent.collectNow()
  assert.match(String(app.requests[0]?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
  const body = await metrics(agent, 'application/openmetrics-text; version=1.0.0')
  assert.match(body, /^outrigger_probe_duration_seconds_count\{target="app",probe="health"\} [1-9]$/m)
  assert.ok(!body.includes('trace_id='), 'no exemplar for an unsampled run')
  await agent.close()
  assert.deepEqual(traces.requests, [])
})

test('exemplars: the probe duration histogram and the source duration histogram point at the run\'s trace', async (t) => {
  const traces = await receiver(t)
  const app = await startApp(t)
  const agent = await agentWith(t, `
server: { listen: 127.0.0.1:0 }
defaults: { interval: 10m }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint} }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${app.port}/health }
`)
  await agent.collectNow()
  const body = await metrics(agent, 'application/openmetrics-text; version=1.0.0')
  const exemplar = /^outrigger_probe_duration_seconds_bucket\{target="app",probe="health",le="[^"]+"\} [1-9]\d* # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} [0-9.e-]+ [0-9.]+$/m.exec(body)
  assert.ok(exemplar !== null, `an exemplar on outrigger_probe_duration_seconds:\n${body}`)
  const [, traceId, spanId] = exemplar
  const spans = await traces.waitFor((all) => all.some((span) => span.traceId === traceId && span.spanId === spanId), { what: `the exemplar's span ${spanId ?? ''}` })
  assert.equal(spans.find((span) => span.spanId === spanId)?.name, 'probe http/health')
  assert.match(body, new RegExp(`^outrigger_source_duration_seconds_bucket\\{target="app",source="http/health",le="[^"]+"\\} \\d+ # \\{trace_id="${traceId ?? ''}"`, 'm'))
  assert.match(body, /^probe_duration_seconds\{target="app",probe="health"\} [0-9.e-]+$/m, 'the blackbox gauge stays, without exemplar')
  const text = await metrics(agent)
  assert.ok(!text.includes('trace_id'), 'the Prometheus text format carries no exemplars')
})
