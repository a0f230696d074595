import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadDashboards, loadRules, panelsOf } from './dashboard-files.ts'
import type { Dashboard } from './dashboard-files.ts'
import { lintDashboard, lintExpression } from './dashboard-lint.ts'

/** Fixed uids: links, bookmarks and alert annotations point at them, so a change must be deliberate. */
const EXPECTED_UIDS: Record<string, string> = {
  'agent.json': 'outrigger-agent',
  'resources.json': 'outrigger-resources',
  'service-overview.json': 'outrigger-service-overview',
  'slo.json': 'outrigger-slo'
}

test('the four dashboards are there with their fixed uids and distinct titles', () => {
  const dashboards = loadDashboards()
  assert.deepEqual(Object.fromEntries(dashboards.map(({ file, dashboard }) => [file, dashboard.uid])), EXPECTED_UIDS)
  const titles = dashboards.map(({ dashboard }) => dashboard.title)
  assert.equal(new Set(titles).size, titles.length, `duplicate titles: ${titles.join(', ')}`)
})

for (const { file, dashboard } of loadDashboards()) {
  test(`${file} passes every lint rule`, () => {
    assert.ok(panelsOf(dashboard).length > 0, `${file} has no panels`)
    assert.deepEqual(lintDashboard(dashboard), [])
  })
}

test('every rule expression parses and wraps its counters in rate() or increase()', () => {
  const rules = loadRules()
  assert.ok(rules.length > 50, `only ${rules.length} rules found`)
  const findings = rules.flatMap(({ file, rule }) => lintExpression(rule.expr).map((problem) => `${file} ${rule.record ?? rule.alert ?? '?'}: ${problem}`))
  assert.deepEqual(findings, [])
})

test('the lint catches each kind of mistake', () => {
  const broken: Dashboard = {
    uid: 'not a fixed uid!',
    title: 'Broken',
    schemaVersion: 36,
    templating: { list: [{ name: 'target', type: 'query', query: 'label_values(foo{, target)', datasource: { uid: 'prometheus' }, includeAll: true, allValue: '.*' }] },
    panels: [
      {
        type: 'timeseries',
        title: 'Requests',
        datasource: { uid: 'prometheus' },
        fieldConfig: { defaults: {} },
        targets: [
          { refId: 'A', expr: 'sum(app_http_requests_total{target=~"$target"})', datasource: { uid: '${datasource}' } },
          { refId: 'B', expr: 'sum(rate(app_http_requests_total{target=~"$target"}[5m]))', datasource: { uid: '${datasource}' } },
          { refId: 'C', expr: 'histogram_quantile(0.9, sum by (le) (rate(app_http_request_duration_seconds_bucket[$__rate_interval])))', datasource: { uid: '${datasource}' } },
          { refId: 'D', expr: 'sum(rate(app_http_requests_total{target=~"$target"}[$__rate_interval])', datasource: { uid: '${datasource}' } }
        ]
      },
      { type: 'timeseries', title: '', description: 'x', datasource: { uid: '${datasource}' }, fieldConfig: { defaults: { unit: 'furlongs' } }, targets: [] }
    ]
  }
  const findings = lintDashboard(broken)
  const rulesHit = new Set(findings.map((finding) => finding.split(':')[0]))
  for (const rule of [
    'dashboard-uid-rule', 'dashboard-schema-rule', 'template-datasource-rule', 'template-all-value-rule',
    'template-label-promql-rule', 'panel-title-description-rule', 'panel-units-rule', 'panel-datasource-rule',
    'panel-targets-rule', 'target-promql-rule', 'target-rate-interval-rule', 'target-variable-rule', 'target-exemplar-rule'
  ]) {
    assert.ok(rulesHit.has(rule), `${rule} did not fire; findings:\n${findings.join('\n')}`)
  }
  assert.ok(findings.some((finding) => finding.includes('query A') && finding.includes('counter app_http_requests_total')), findings.join('\n'))
  assert.ok(findings.some((finding) => finding.includes('query D') && finding.includes('syntax error')), findings.join('\n'))
})
