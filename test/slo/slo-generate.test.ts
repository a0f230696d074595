import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { generateRuleText } from '../../agent/cli/slo-command.ts'
import { ConfigError } from '../../agent/config/index.ts'
import { SLI_WINDOWS } from '../../agent/slo/burn-rate-policy.ts'
import { sloRuleGroups } from '../../agent/slo/slo-rules.ts'
import type { AlertingRule, RecordingRule } from '../../agent/slo/slo-rules.ts'
import { parseSloSpec } from '../../agent/slo/slo-spec.ts'
import { ROOT, RULES_DIR } from '../dashboards/dashboard-files.ts'

const SPEC = join(ROOT, 'slo/demo-app.slo.yaml')
const COMMITTED = join(RULES_DIR, 'demo-app-slo.rules.yml')
const BIN = join(ROOT, 'agent/bin/outrigger.ts')

const MINIMAL = `version: prometheus/v1
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: ShopAvailability
      annotations: { summary: s, description: d, runbook_url: docs/runbooks/shop-availability.md }
`

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-slo-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

async function cli (args: string[], cwd = ROOT): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

test('the committed SLO rules are what the spec generates', async () => {
  const expected = generateRuleText(await readFile(SPEC, 'utf8'), SPEC, RULES_DIR)
  const committed = await readFile(COMMITTED, 'utf8')
  assert.ok(committed === expected, 'compose/prometheus/rules/demo-app-slo.rules.yml is stale: run `npm run slo:generate` and commit the result')
})

test('each SLO records its error ratio over every window, numerator and denominator each aggregated first', () => {
  const spec = parseSloSpec(MINIMAL)
  const [group] = sloRuleGroups(spec)
  assert.ok(group !== undefined)
  const records = group.rules.filter((rule): rule is RecordingRule => 'record' in rule)
  const ratios = records.filter((rule) => rule.record.startsWith('slo:sli_error:ratio_rate'))
  assert.deepEqual(ratios.map((rule) => rule.labels.sloth_window), [...SLI_WINDOWS])
  for (const rule of ratios) {
    const window = rule.labels.sloth_window as string
    assert.equal(rule.record, `slo:sli_error:ratio_rate${window}`)
    assert.equal(rule.expr, `(sum(rate(http_requests_total{code=~"5.."}[${window}])))\n/\n(sum(rate(http_requests_total[${window}])))\n`)
    assert.deepEqual(rule.labels, { sloth_id: 'shop-availability', sloth_service: 'shop', sloth_slo: 'availability', sloth_window: window })
  }
  const byName = Object.fromEntries(records.map((rule) => [rule.record, rule.expr]))
  assert.equal(byName['slo:objective:ratio'], 'vector(0.999)')
  assert.equal(byName['slo:error_budget:ratio'], 'vector(0.001)')
  assert.equal(byName['slo:time_period:days'], 'vector(30)')
  // The period's ratio divides sums of event rates, never an average of ratios.
  assert.match(byName['slo:period_burn_rate:ratio'] ?? '', /sum_over_time\(slo:sli_error_events:rate5m\{sloth_id="shop-availability"\}\[30d\]\)\s*\/\s*sum_over_time\(slo:sli_total_events:rate5m\{sloth_id="shop-availability"\}\[30d\]\)/)
  assert.doesNotMatch(JSON.stringify(records), /avg|\{\{\s*\.window/)
})

test('the page and ticket alerts use the multi-window burn rates of the SRE workbook', () => {
  const [group] = sloRuleGroups(parseSloSpec(MINIMAL))
  const alerts = (group?.rules ?? []).filter((rule): rule is AlertingRule => 'alert' in rule)
  assert.deepEqual(alerts.map((alert) => [alert.alert, alert.labels.severity, alert.labels.sloth_severity, alert.for]), [
    ['ShopAvailability', 'page', 'page', '2m'],
    ['ShopAvailability', 'ticket', 'ticket', '15m']
  ])
  const conditions = (alert: AlertingRule | undefined): string[] =>
    [...(alert?.expr ?? '').matchAll(/slo:sli_error:ratio_rate(\w+)\{sloth_id="shop-availability"\} > \(([\d.]+) \* 0\.001\)/g)].map((match) => `${match[1] ?? ''}>${match[2] ?? ''}`)
  assert.deepEqual(conditions(alerts[0]), ['1h>14.4', '5m>14.4', '6h>6', '30m>6'])
  assert.deepEqual(conditions(alerts[1]), ['1d>3', '2h>3', '3d>1', '6h>1'])
  for (const alert of alerts) {
    assert.match(alert.expr, /\)\nor\n\(/, 'the two window pairs are alternatives')
    assert.deepEqual(alert.annotations, { summary: 's', description: 'd', runbook_url: 'docs/runbooks/shop-availability.md' })
  }
})

test('a disabled ticket alert is left out, and page/ticket settings override the shared ones', () => {
  const spec = parseSloSpec(MINIMAL.replace('      annotations:', '      labels: { team: a }\n      page_alert: { labels: { team: b, severity: critical }, annotations: { summary: paged } }\n      ticket_alert: { disable: true }\n      annotations:'))
  const alerts = (sloRuleGroups(spec)[0]?.rules ?? []).filter((rule): rule is AlertingRule => 'alert' in rule)
  assert.equal(alerts.length, 1)
  assert.deepEqual(alerts[0]?.labels, { severity: 'critical', team: 'b', sloth_severity: 'page' })
  assert.equal(alerts[0]?.annotations.summary, 'paged')
})

test('a spec with mistakes reports every one with its line, and suggests the key meant', () => {
  const bad = `version: prometheus/v2
service: shop
slos:
  - name: availability
    objectve: 99.9
    sli:
      raw:
        error_ratio_query: x
    alerting:
      name: ShopAvailability
      annotations: { summary: s, description: d, runbook_url: r }
  - name: latency
    objective: 99
    labels: { sloth_slo: x }
    sli:
      events:
        error_query: sum(rate(slow_total[5m]))
        total_query: sum(rate(all_total[{{.window}}]))
    alerting:
      name: ShopLatency
      annotations: { summary: s, description: d }
  - name: latency
    objective: 100
    sli: { events: { error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]' } }
    alerting: { name: x, annotations: { summary: s, description: d, runbook_url: r } }
`
  let caught: unknown
  try {
    parseSloSpec(bad, 'shop.slo.yaml')
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof ConfigError, String(caught))
  const lines = caught.problems.map((problem) => `${problem.line ?? '?'} ${problem.path}: ${problem.message}`)
  const expect = (pattern: RegExp): void => { assert.ok(lines.some((line) => pattern.test(line)), `${String(pattern)} not among:\n${lines.join('\n')}`) }
  expect(/^1 version: expected `prometheus\/v1`/)
  expect(/^5 slos\[0\]\.objectve: unknown key `objectve`; did you mean `objective`\?/)
  expect(/^8 slos\[0\]\.sli\.raw: raw error ratios are not supported/)
  expect(/^14 slos\[1\]\.labels\.sloth_slo: .*set by the generator/)
  expect(/^17 slos\[1\]\.sli\.events\.error_query: must contain `\{\{\.window\}\}`/)
  expect(/^23 slos\[2\]\.objective: must be below 100/)
  assert.equal(caught.code, 'OUTRIGGER_ERR_CONFIG_INVALID')
})

test('missing annotations and duplicate names are reported after the shape is right', () => {
  const spec = `${MINIMAL}${MINIMAL.split('slos:\n')[1] ?? ''}`.replace(', runbook_url: docs/runbooks/shop-availability.md', '')
  assert.throws(() => parseSloSpec(spec, 'dup.yaml'), (error: unknown) => {
    assert.ok(error instanceof ConfigError)
    const text = error.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n')
    assert.match(text, /slos\[0\]\.alerting\.annotations: the page alert has no `runbook_url` annotation/)
    assert.match(text, /slos\[0\]\.alerting\.annotations: the ticket alert has no `runbook_url` annotation/)
    assert.match(text, /slos\[1\]\.name: duplicate SLO name `availability` \(also slos\[0\]\)/)
    return true
  })
})

test('outrigger slo generate writes the rules file, prints to stdout without --out, and exits 2 on a bad spec', async (t) => {
  const dir = await tempDir(t)
  const spec = join(dir, 'shop.slo.yaml')
  const out = join(dir, 'rules', 'shop.rules.yml')
  await writeFile(spec, MINIMAL)
  await mkdir(join(dir, 'rules'))

  const written = await cli(['slo', 'generate', '--spec', spec, '--out', out])
  assert.equal(written.code, 0, written.stderr)
  const text = await readFile(out, 'utf8')
  assert.equal(text, generateRuleText(MINIMAL, spec, join(dir, 'rules')))
  assert.match(text, /^# Generated by `outrigger slo generate` from \.\.\/shop\.slo\.yaml\./)
  assert.equal((parse(text) as { groups: unknown[] }).groups.length, 1)
  assert.match(written.stderr, /17 rules from/)

  const printed = await cli(['slo', 'generate', '-s', 'shop.slo.yaml'], dir)
  assert.equal(printed.code, 0, printed.stderr)
  assert.match(printed.stdout, /from shop\.slo\.yaml\.\n/)

  await writeFile(spec, MINIMAL.replace('objective: 99.9', 'objective: high'))
  const bad = await cli(['slo', 'generate', '--spec', spec, '--out', out])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /shop\.slo\.yaml:5:16 slos\[0\]\.objective: expected a number, got/)
  assert.ok(!bad.stderr.includes('    at '), bad.stderr)
  assert.equal(await readFile(out, 'utf8'), text, 'a failed run leaves the previous rules alone')

  for (const [args, message] of [
    [['slo'], /`slo` needs an action/],
    [['slo', 'generate'], /needs `--spec FILE`/],
    [['slo', 'delete', '--spec', spec], /unknown action `slo delete`/],
    [['slo', 'generate', '--spec', join(dir, 'missing.yaml')], /cannot read SLO spec/],
    [['--config', spec, 'slo', 'generate'], /put `slo` first/]
  ] as const) {
    const run = await cli([...args])
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    assert.match(run.stderr, message)
  }
})
