/**
 * The dashboards and the SLO rules against real data: Postgres, the upstream, the demo app under
 * light load, the agent, and Prometheus from Debian's package loading compose/prometheus/prometheus.yml
 * (targets rewritten to loopback, every second instead of every 15) with the same rule files.
 * Every dashboard query and every recording rule must return data — what an operator sees on
 * first opening the dashboards.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { runLightLoad } from '../../compose/load/light-load.ts'
import type { LightLoadResult } from '../../compose/load/light-load.ts'
import { startStack, type Stack } from '../support/stack.ts'
import { waitUntil } from '../support/wait.ts'
import { loadDashboards, loadRules, panelsOf, ROOT, RULES_DIR, toPromql } from './dashboard-files.ts'

/** What Grafana would put for `$__rate_interval` at a 1 s scrape interval, with room to spare. */
const RATE_INTERVAL = '1m'

/** compose/prometheus/prometheus.yml for loopback: the agent's address, 1 s intervals, rules by absolute path, no Alertmanager. */
function loopbackPrometheusConfig (addresses: { agent: string }): Record<string, unknown> {
  const config = parse(readFileSync(join(ROOT, 'compose/prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>
    rule_files: string[]
    scrape_configs: Array<{ job_name: string, static_configs: Array<{ targets: string[] }> }>
  }
  const outrigger = config.scrape_configs.find((job) => job.job_name === 'outrigger')
  assert.ok(outrigger !== undefined, 'prometheus.yml has no `outrigger` job')
  return {
    global: { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: config.rule_files.map((pattern) => join(ROOT, 'compose/prometheus', pattern)),
    scrape_configs: [{ ...outrigger, static_configs: [{ targets: [addresses.agent] }] }]
  }
}

/** Every query to check: each dashboard target and each recording rule's output series. */
function queries (): Array<{ where: string, expr: string }> {
  const out: Array<{ where: string, expr: string }> = []
  for (const { file, dashboard } of loadDashboards()) {
    for (const panel of panelsOf(dashboard)) {
      for (const target of panel.targets ?? []) {
        out.push({ where: `${file} "${panel.title ?? ''}" ${target.refId ?? ''}`, expr: toPromql(target.expr ?? '', RATE_INTERVAL) })
      }
    }
  }
  for (const { file, rule } of loadRules()) {
    if (rule.record === undefined) continue
    const matchers = Object.entries(rule.labels ?? {}).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')
    out.push({ where: `${file} record ${rule.record}`, expr: `${rule.record}{${matchers}}` })
  }
  return out
}

let stack: Stack
const stopLoad = new AbortController()
let load: Promise<LightLoadResult> | undefined

before(async () => {
  stack = await startStack({
    prometheus: true,
    prometheusConfig: loopbackPrometheusConfig,
    prometheusFlags: ['--enable-feature=exemplar-storage']
  })
  // The stack seeds 200 items; ids beyond them answer 404, which is not an error here.
  load = runLightLoad({ baseUrl: stack.appUrl, signal: stopLoad.signal, requestsPerSecond: 20, itemIds: 200 })
})

after(async () => {
  stopLoad.abort()
  await load
  await stack?.close()
})

test('Prometheus loaded the compose rule files', async () => {
  const response = await fetch(`${stack.prometheusUrl ?? ''}/api/v1/rules`)
  const body = await response.json() as { data: { groups: Array<{ name: string, file: string, rules: unknown[] }> } }
  const files = new Set(body.data.groups.map((group) => group.file))
  assert.deepEqual([...files].sort(), [join(RULES_DIR, 'cause-alerts.rules.yml'), join(RULES_DIR, 'demo-app-slo.rules.yml')])
  const count = body.data.groups.reduce((sum, group) => sum + group.rules.length, 0)
  assert.equal(count, loadRules().length)
})

test('every dashboard query and every recording rule returns data', { timeout: 120_000 }, async () => {
  const all = queries()
  assert.ok(all.length > 100, `only ${all.length} queries`)
  let empty: string[] = []
  await waitUntil(async () => {
    const results = await Promise.all(all.map(async ({ where, expr }) => ({ where, expr, series: await stack.query(expr) })))
    empty = results.filter((result) => result.series.length === 0).map((result) => `${result.where}: ${result.expr}`)
    return empty.length === 0
  }, { timeoutMs: 75_000, intervalMs: 1000, what: 'every query to return data', details: () => `still empty:\n${empty.join('\n')}` })
})

test('the recorded SLIs hold ratios the light load explains', async () => {
  const rate = await stack.query(`sum(rate(app_http_requests_total{target="demo-app"}[${RATE_INTERVAL}]))`)
  assert.ok(Number(rate[0]?.value[1]) > 0, `request rate ${JSON.stringify(rate)}`)
  // A probe may time out now and then on a busy machine, so "mostly succeeding", not "never failing".
  const probe = await stack.query('slo:sli_error:ratio_rate5m{sloth_slo="health-probe-availability"}')
  assert.equal(probe.length, 1)
  const ratio = Number(probe[0]?.value[1])
  assert.ok(ratio >= 0 && ratio < 0.5, `health probe error ratio ${ratio}`)
  const budget = await stack.query('slo:period_error_budget_remaining:ratio{sloth_slo="health-probe-availability"}')
  const remaining = Number(budget[0]?.value[1])
  assert.ok(Number.isFinite(remaining) && remaining <= 1, `budget remaining ${remaining}`)
  const objective = await stack.query('slo:objective:ratio{sloth_slo="requests-availability"}')
  assert.equal(Number(objective[0]?.value[1]), 0.999)
})
