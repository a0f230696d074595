/**
 * Counters that go backwards (the application restarted) are passed through as reported, and a
 * real Prometheus reads the drop as a counter reset: `resets()` counts it and `rate()` never
 * goes negative.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer } from '../support/fault-server.ts'
import { startPrometheus } from '../support/stack.ts'
import { waitUntil } from '../support/wait.ts'
import { sampleValue, startInProcessAgent } from './in-process-agent.ts'

test('a counter that goes backwards is passed through, and Prometheus sees a reset: rate() stays non-negative', { timeout: 120_000 }, async (t) => {
  const app = await startFaultServer({ initialCount: 1000 })
  t.after(() => app.close())
  const { get, agent } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '1s', timeout: '800ms' },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  }))
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-prometheus-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const prometheus = await startPrometheus({
    dir,
    config: {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'outrigger', static_configs: [{ targets: [new URL(agent.url).host] }] }]
    }
  })
  t.after(async () => { await prometheus.stop() })

  const series = 'app_cache_hits_total{target="app",cache="items"}'
  const scalar = async (expr: string): Promise<number | undefined> => {
    const [first] = await prometheus.query(expr)
    return first === undefined ? undefined : Number(first.value[1])
  }
  await waitUntil(async () => ((await scalar(`count_over_time(${series}[1m])`)) ?? 0) >= 3, { what: 'Prometheus to store three samples of the counter', timeoutMs: 60_000 })
  const before = await scalar(series) as number
  assert.ok(before >= 1000)

  app.restart()
  // The agent reports what the application reports: the lower value, not a clamped or adjusted one.
  const passedThrough = await waitUntil(async () => {
    const value = sampleValue((await get('/metrics')).body, 'app_cache_hits_total', 'target="app",cache="items"')
    return value !== undefined && value < 100 ? value : undefined
  }, { what: 'the agent to expose the restarted counter', timeoutMs: 30_000 })
  assert.ok(passedThrough < before)

  await waitUntil(async () => ((await scalar(`resets(${series}[1m])`)) ?? 0) >= 1 && ((await scalar(`count_over_time(${series}[5s])`)) ?? 0) >= 3,
    { what: 'Prometheus to record the reset and samples after it', timeoutMs: 60_000 })
  for (const expr of [`rate(${series}[1m])`, `increase(${series}[1m])`, `min_over_time(rate(${series}[3s])[1m:1s])`, `irate(${series}[1m])`]) {
    const value = await scalar(expr)
    assert.ok(value !== undefined && value >= 0, `${expr} = ${value}: never negative across the reset`)
  }
})
