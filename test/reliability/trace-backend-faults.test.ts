/**
 * A trace backend that misbehaves — hangs, trickles, fails, floods — never slows or stops
 * probing, never stalls `/metrics`, is counted as failed exports, and does not hold up shutdown.
 * (A backend that refuses connections is covered by test/tracing/agent-tracing.test.ts.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer, type FaultMode } from '../support/fault-server.ts'
import { waitUntil } from '../support/wait.ts'
import { sampleValue, startInProcessAgent } from './in-process-agent.ts'

const BACKEND_FAULTS: FaultMode[] = ['hang', 'trickle', 'status-500', 'huge-body']

test('a trace backend that hangs, trickles, fails or floods: probing and /metrics carry on, failures are counted, shutdown is not held up', { timeout: 120_000 }, async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  await Promise.all(BACKEND_FAULTS.map(async (mode) => {
    const backend = await startFaultServer({ mode })
    t.after(() => backend.close())
    const { agent, get } = await startInProcessAgent(t, stringify({
      server: { listen: '127.0.0.1:0' },
      defaults: { interval: '10m', timeout: '5s' },
      tracing: { exporter: 'otlp', endpoint: backend.url },
      targets: [{ name: 'app', stats: { url: `${app.url}/stats` }, probes: [{ name: 'port', tcp: { address: app.address } }] }]
    }), { env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: backend.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } })

    const runs = async (): Promise<number> => sampleValue((await get('/metrics')).body, 'outrigger_source_runs_total', 'target="app",source="tcp/port"') ?? 0
    await agent.collectNow()
    // The first export goes out on the batch processor's timer; wait until the backend has it.
    await waitUntil(() => backend.requests >= 1, { what: `${mode}: the first export to reach the backend`, timeoutMs: 30_000 })
    // While that export is stuck or failing, runs go on and /metrics answers.
    for (let i = 0; i < 3; i++) await agent.collectNow()
    const metrics = await get('/metrics')
    assert.equal(metrics.status, 200, mode)
    assert.equal(sampleValue(metrics.body, 'probe_success', 'target="app",probe="port"'), 1, mode)
    assert.equal(sampleValue(metrics.body, 'outrigger_source_up', 'target="app",source="stats"'), 1, mode)
    assert.ok(await runs() >= 4, `${mode}: every run completed`)

    await waitUntil(async () => (sampleValue((await get('/metrics')).body, 'outrigger_trace_export_failures_total', 'exporter="otlp"') ?? 0) >= 1,
      { what: `${mode}: the failed export to be counted`, timeoutMs: 30_000 })
    if (mode === 'huge-body') {
      assert.ok(backend.hugeBytesWritten < 20 * 1024 * 1024, `${mode}: the exporter read ${backend.hugeBytesWritten} bytes of a 50 MB answer`)
    }
    // Shutdown flushes within its own deadline even though the backend never answers well.
    await agent.close()
  }))
})
