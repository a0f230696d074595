/**
 * The agent watching the real demo app on a real Postgres, scraped by a real Prometheus: what the
 * agent reports must be what the app and the kernel say.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import type { StatsDocument } from '../../contract/stats-v1.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { waitUntil } from '../support/wait.ts'

let stack: Stack

before(async () => {
  stack = await startStack({ prometheus: true })
})

after(async () => {
  await stack?.close()
})

async function agentMetrics (): Promise<string> {
  const response = await fetch(`${stack.agentUrl}/metrics`)
  assert.equal(response.status, 200)
  return response.text()
}

/** The value of the one series matching `name{labels…}` (labels in the given order), or undefined. */
function sampleValue (body: string, name: string, labels: string): number | undefined {
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

test('the agent\'s request and cache counters equal the app\'s own figures exactly', async () => {
  const reads = 7
  for (let i = 0; i < reads; i++) {
    const response = await fetch(`${stack.appUrl}/api/items/42`)
    assert.equal(response.status, 200)
    await response.body?.cancel()
  }
  const route = 'route="/api/items/:id",method="GET",status_class="2xx"'
  const body = await waitUntil(async () => {
    const text = await agentMetrics()
    return sampleValue(text, 'app_http_requests_total', route) === reads ? text : undefined
  }, { what: `the agent to report ${reads} item reads` })
  const own = await (await fetch(`${stack.appUrl}/api/performance/metrics`)).json() as StatsDocument
  const ownRoute = own.http.routes.find((entry) => entry.route === '/api/items/:id' && entry.statusClass === '2xx')
  assert.equal(ownRoute?.durationSeconds.count, reads)
  const cache = own.caches.items
  assert.ok(cache !== undefined, 'the optimized profile has an `items` cache')
  assert.equal(cache.misses, 1)
  assert.equal(cache.hits, reads - 1)
  assert.equal(sampleValue(body, 'app_cache_hits_total', 'cache="items"'), cache.hits)
  assert.equal(sampleValue(body, 'app_cache_misses_total', 'cache="items"'), cache.misses)
  assert.equal(sampleValue(body, 'app_http_request_duration_seconds_count', route), reads)
})

test('the process the agent follows is the demo app, and its RSS agrees with /proc within 5 %', async () => {
  const body = await waitUntil(async () => {
    const text = await agentMetrics()
    return sampleValue(text, 'app_process_pid', 'target="demo-app"') === stack.appPid() ? text : undefined
  }, { what: 'the agent to follow the demo app by its port' })
  const status = await readFile(`/proc/${stack.appPid()}/status`, 'utf8')
  const vmRssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1])
  const reported = sampleValue(body, 'app_process_resident_memory_bytes', 'target="demo-app"') as number
  assert.ok(Math.abs(reported - vmRssKiB * 1024) / (vmRssKiB * 1024) < 0.05, `agent says ${reported}, /proc says ${vmRssKiB * 1024}`)
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })
  assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'promtool check metrics prints nothing on the live output')
})

test('Prometheus scrapes the agent and its query API returns the series', async () => {
  const up = await waitUntil(async () => {
    const result = await stack.query('up{job="outrigger"}')
    return result[0]?.value[1] === '1' ? result : undefined
  }, { what: 'Prometheus to scrape the agent' })
  assert.equal(up.length, 1)
  for (const expr of ['probe_success{target="demo-app",probe="health"}', 'app_cache_misses_total{target="demo-app"}', 'app_process_resident_memory_bytes{target="demo-app"}', 'outrigger_source_up{target="demo-app",source="postgres/db"}']) {
    const result = await waitUntil(async () => {
      const series = await stack.query(expr)
      return series.length > 0 ? series : undefined
    }, { what: `Prometheus to return ${expr}` })
    assert.ok(Number(result[0]?.value[1]) >= 0)
  }
})

test('stopping the app flips probe_success to 0 within two runs, and starting it flips it back', async () => {
  const runsOf = (body: string): number => sampleValue(body, 'outrigger_source_runs_total', 'source="http/health"') ?? 0
  await waitUntil(async () => sampleValue(await agentMetrics(), 'probe_success', 'probe="health"') === 1, { what: 'the health probe to pass' })
  const runsBefore = runsOf(await agentMetrics())
  await stack.stopApp()
  const down = await waitUntil(async () => {
    const body = await agentMetrics()
    return sampleValue(body, 'probe_success', 'probe="health"') === 0 ? body : undefined
  }, { what: 'probe_success to drop to 0' })
  assert.ok(runsOf(down) <= runsBefore + 2, `it took ${runsOf(down) - runsBefore} runs`)
  assert.match(down, /^outrigger_source_errors_total\{target="demo-app",source="http\/health",reason="refused"\} \d+$/m)
  await waitUntil(async () => /^outrigger_source_up\{target="demo-app",source="tcp\/port"\} 0$/m.test(await agentMetrics()), { what: 'the TCP probe to fail too' })

  await stack.startApp()
  const runsAtStart = runsOf(await agentMetrics())
  const back = await waitUntil(async () => {
    const body = await agentMetrics()
    return sampleValue(body, 'probe_success', 'probe="health"') === 1 ? body : undefined
  }, { what: 'probe_success to return to 1' })
  assert.ok(runsOf(back) <= runsAtStart + 2, `it took ${runsOf(back) - runsAtStart} runs`)
  // The process source follows the new process on the same port.
  await waitUntil(async () => sampleValue(await agentMetrics(), 'app_process_pid', 'target="demo-app"') === stack.appPid(), { what: 'the agent to follow the restarted app' })
})
