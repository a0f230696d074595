/**
 * A trace backend that misbehaves — hangs, trickles, fails, floods — never slows or stops
 * probing, never stalls `/metrics`, is counted as failed exports, and does not hold up shutdown;
 * over OTLP and over Jaeger thrift to a collector. (A backend that refuses connections is covered
 * by test/tracing/agent-tracing.test.ts; the Jaeger deadline itself, shortened so each step is
 * seen, by test/tracing/jaeger-export-deadline.test.ts.)
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer, type FaultMode, type FaultServer } from '../support/fault-server.ts'
import { waitUntil } from '../support/wait.ts'
import { sampleValue, startInProcessAgent, type InProcessAgent } from './in-process-agent.ts'

const BACKEND_FAULTS: FaultMode[] = ['hang', 'trickle', 'status-500', 'huge-body']

/**
 * An agent probing one target and exporting to `backend`, whose first export has reached it:
 * while that export is stuck or failing, runs go on and `/metrics` answers.
 */
async function agentExportingTo (t: TestContext, mode: FaultMode, app: FaultServer, backend: FaultServer, tracing: { exporter: string, endpoint: string }, env: Record<string, string>): Promise<InProcessAgent> {
  const running = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '10m', timeout: '5s' },
    tracing,
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` }, probes: [{ name: 'port', tcp: { address: app.address } }] }]
  }), { env })
  const { agent, get } = running
  await agent.collectNow()
  // The first export goes out on the batch processor's timer; wait until the backend has it.
  await waitUntil(() => backend.requests >= 1, { what: `${mode}: the first export to reach the backend`, timeoutMs: 30_000 })
  for (let i = 0; i < 3; i++) await agent.collectNow()
  const metrics = await get('/metrics')
  assert.equal(metrics.status, 200, mode)
  assert.equal(sampleValue(metrics.body, 'probe_success', 'target="app",probe="port"'), 1, mode)
  assert.equal(sampleValue(metrics.body, 'outrigger_source_up', 'target="app",source="stats"'), 1, mode)
  assert.ok((sampleValue(metrics.body, 'outrigger_source_runs_total', 'target="app",source="tcp/port"') ?? 0) >= 4, `${mode}: every run completed`)
  return running
}

test('a trace backend that hangs, trickles, fails or floods: probing and /metrics carry on, failures are counted, shutdown is not held up', { timeout: 120_000 }, async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  await Promise.all(BACKEND_FAULTS.map(async (mode) => {
    const backend = await startFaultServer({ mode })
    t.after(() => backend.close())
    const { agent, get } = await agentExportingTo(t, mode, app, backend, { exporter: 'otlp', endpoint: backend.url },
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: backend.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })
    await waitUntil(async () => (sampleValue((await get('/metrics')).body, 'outrigger_trace_export_failures_total', 'exporter="otlp"') ?? 0) >= 1,
      { what: `${mode}: the failed export to be counted`, timeoutMs: 30_000 })
    if (mode === 'huge-body') {
      assert.ok(backend.hugeBytesWritten < 20 * 1024 * 1024, `${mode}: the exporter read ${backend.hugeBytesWritten} bytes of a 50 MB answer`)
    }
    // Shutdown flushes within its own deadline even though the backend never answers well.
    await agent.close()
  }))
})

const JAEGER_COLLECTOR_FAULTS: FaultMode[] = ['hang', 'trickle', 'status-500']

test('a Jaeger collector that hangs, trickles or fails: probing and /metrics carry on, failures are counted, shutdown closes every connection', { timeout: 120_000 }, async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  await Promise.all(JAEGER_COLLECTOR_FAULTS.map(async (mode) => {
    const backend = await startFaultServer({ mode })
    t.after(() => backend.close())
    const endpoint = `${backend.url}/api/traces`
    const { agent, get } = await agentExportingTo(t, mode, app, backend, { exporter: 'jaeger', endpoint },
      { OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_JAEGER_ENDPOINT: endpoint })
    const exported = async (result: string): Promise<number> => sampleValue((await get('/metrics')).body, 'outrigger_trace_spans_exported_total', `exporter="jaeger",result="${result}"`) ?? 0
    if (mode === 'trickle') {
      // The Jaeger client takes a 200 head as success and reads the body on; the request deadline
      // then ends the connection.
      await waitUntil(async () => await exported('success') >= 1, { what: `${mode}: the export to be reported`, timeoutMs: 30_000 })
    } else {
      await waitUntil(async () => (sampleValue((await get('/metrics')).body, 'outrigger_trace_export_failures_total', 'exporter="jaeger"') ?? 0) >= 1,
        { what: `${mode}: the failed export to be counted`, timeoutMs: 30_000 })
      assert.ok(await exported('failure') >= 1, mode)
    }
    await agent.close()
    // The collector never closes a held connection itself: the agent has to have ended them all.
    await waitUntil(() => backend.held === 0, { what: `${mode}: the agent to close its connections to the collector`, timeoutMs: 30_000 })
  }))
})
