/**
 * A real Prometheus, with exemplar storage on, scrapes the agent and hands back the trace ids of
 * the probe runs from `/api/v1/query_exemplars`: the path from a latency graph to the trace.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { startAgent } from '../../agent/agent.ts'
import { parseConfigText } from '../../agent/config/index.ts'
import { freePort } from '../support/postgres.ts'
import { startTraceReceiver } from '../support/trace-receiver.ts'
import { waitUntil } from '../support/wait.ts'

interface ExemplarResult {
  seriesLabels: Record<string, string>
  exemplars: Array<{ labels: Record<string, string>, value: string, timestamp: number }>
}

test('Prometheus with exemplar storage returns the probe runs\' trace ids', async (t) => {
  const traces = await startTraceReceiver()
  t.after(() => traces.close())
  const app = createServer((_req, res) => { res.end('ok') })
  app.listen(0, '127.0.0.1')
  await once(app, 'listening')
  t.after(async () => {
    app.closeAllConnections()
    await new Promise<void>((resolve) => app.close(() => resolve()))
  })
  const config = await parseConfigText(`
server: { listen: 127.0.0.1:0 }
defaults: { interval: 1s, timeout: 500ms }
tracing: { exporter: otlp, endpoint: ${traces.otlpEndpoint} }
targets:
  - name: app
    probes:
      - name: health
        http: { url: http://127.0.0.1:${(app.address() as AddressInfo).port}/ }
`, { env: {} })
  const agent = await startAgent({ config, logger: pino({ level: 'silent' }) })
  t.after(() => agent.close())

  const dir = await mkdtemp(join(tmpdir(), 'outrigger-prometheus-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const agentAddress = new URL(agent.url).host
  await writeFile(join(dir, 'prometheus.yml'), `
global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: outrigger
    static_configs: [{ targets: ["${agentAddress}"] }]
`)
  const port = await freePort()
  const prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--enable-feature=exemplar-storage'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  prometheus.stderr.on('data', (chunk: Buffer) => { log = (log + chunk.toString('utf8')).slice(-20_000) })
  t.after(async () => {
    if (prometheus.exitCode === null && prometheus.signalCode === null) {
      prometheus.kill('SIGTERM')
      await once(prometheus, 'exit')
    }
  })

  // Until Prometheus has scraped the agent, it answers with no exemplar at all.
  const found = await waitUntil(async () => {
    if (prometheus.exitCode !== null) throw new Error(`Prometheus exited with ${prometheus.exitCode}; its log:\n${log}`)
    const now = Date.now() / 1000
    const url = `http://127.0.0.1:${port}/api/v1/query_exemplars?query=${encodeURIComponent('outrigger_probe_duration_seconds_bucket')}&start=${now - 600}&end=${now + 60}`
    const response = await fetch(url)
    const data = response.ok ? ((await response.json()) as { data: ExemplarResult[] }).data ?? [] : []
    return data.length > 0 ? data : undefined
  }, { what: 'Prometheus to return an exemplar', timeoutMs: 60_000, intervalMs: 250, details: () => `its log:\n${log}` })

  const series = found.find((entry) => entry.seriesLabels.probe === 'health')
  assert.ok(series !== undefined, JSON.stringify(found))
  assert.equal(series.seriesLabels.target, 'app')
  assert.equal(series.seriesLabels.job, 'outrigger')
  const traceIds = series.exemplars.map((exemplar) => exemplar.labels.trace_id)
  assert.ok(traceIds.length > 0 && traceIds.every((id) => /^[0-9a-f]{32}$/.test(id ?? '')), JSON.stringify(series.exemplars))
  // Every exemplar names a probe run the trace backend received.
  await traces.waitFor((spans) => traceIds.every((id) => spans.some((span) => span.traceId === id && span.name === 'probe http/health')), { what: `the probe runs of traces ${traceIds.join(', ')}`, timeoutMs: 20_000 })
})
