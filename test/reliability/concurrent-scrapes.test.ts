/**
 * Load: 200 scrapers at once, three rounds, while every source keeps running. Correctness only —
 * every scrape answered 200 with a complete body; the latency and memory figures are the
 * benchmark's to report.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer, type FaultServer } from '../support/fault-server.ts'
import { scrapeConcurrently } from './concurrent-scrapes.ts'
import { startInProcessAgent } from './in-process-agent.ts'

const TARGETS = 10

test('/metrics serves 200 concurrent scrapers, every one a 200 with a complete body, while sources run', { timeout: 120_000 }, async (t) => {
  const apps: FaultServer[] = []
  t.after(async () => { await Promise.all(apps.map((app) => app.close())) })
  for (let i = 0; i < TARGETS; i++) apps.push(await startFaultServer())
  const token = 'load-test-token'
  const { agent, get } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0', auth: { bearer: { token } } },
    defaults: { interval: '1s', timeout: '800ms' },
    targets: apps.map((app, i) => ({
      name: `app-${i}`,
      stats: { url: `${app.url}/stats` },
      probes: [{ name: 'health', http: { url: `${app.url}/health` } }, { name: 'port', tcp: { address: app.address } }],
      ...(i === 0 ? { process: { pid: process.pid } } : {})
    }))
  }))
  await agent.collectNow()
  const requestsBefore = apps.reduce((sum, app) => sum + app.requests, 0)

  const report = await scrapeConcurrently({ url: `${agent.url}/metrics`, concurrency: 200, rounds: 3, headers: { authorization: `Bearer ${token}` } })
  const failures = report.scrapes.filter((scrape) => scrape.status !== 200 || scrape.problem !== undefined)
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${report.scrapes.length} scrapes failed`)
  assert.equal(report.complete, 600)
  // Every body carries every target's app stats: no scrape saw a half-rendered snapshot.
  const reference = (await get('/metrics', { authorization: `Bearer ${token}` })).body
  for (let i = 0; i < TARGETS; i++) assert.match(reference, new RegExp(`^app_cache_hits_total\\{target="app-${i}",cache="items"\\} \\d+$`, 'm'))
  const sizes = report.scrapes.map((scrape) => scrape.bytes)
  assert.ok(Math.min(...sizes) > reference.length * 0.9, 'no body is much shorter than a normal scrape')
  // The sources kept running through the load.
  await agent.collectNow()
  assert.ok(apps.reduce((sum, app) => sum + app.requests, 0) > requestsBefore, 'sources ran during and after the load')
})
