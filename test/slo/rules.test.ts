import { suite, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { loadRules, ROOT, RULES_DIR } from '../dashboards/dashboard-files.ts'
import { runTool } from './promtool.ts'

const TEST_DIR = import.meta.dirname
const RUNBOOK_DIR = join(ROOT, 'docs/runbooks')
const UNIT_TEST_FILES = readdirSync(TEST_DIR).filter((name) => name.endsWith('.test.yml')).sort()
const SEVERITIES = new Set(['page', 'ticket', 'warning'])

/** `AppDbPoolSaturated` → `app-db-pool-saturated`: the runbook's file name. */
function runbookSlug (alert: string): string {
  return alert.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

interface AlertTestCase { alertname: string, eval_time: string, exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }
interface UnitTests { tests: Array<{ name: string, alert_rule_test?: AlertTestCase[] }> }

function alertCases (): Array<AlertTestCase & { file: string, test: string }> {
  return UNIT_TEST_FILES.flatMap((file) => {
    const doc = parse(readFileSync(join(TEST_DIR, file), 'utf8')) as UnitTests
    return doc.tests.flatMap((unit) => (unit.alert_rule_test ?? []).map((entry) => ({ ...entry, file, test: unit.name })))
  })
}

/** promtool's durations as seconds: `3d`, `73h`, `1h30m`. */
function seconds (duration: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }
  let total = 0
  for (const [, value, unit] of duration.matchAll(/(\d+)([smhdw])/g)) total += Number(value) * (units[unit as string] ?? 0)
  return total
}

test('promtool check rules accepts every rule file', async () => {
  const files = readdirSync(RULES_DIR).filter((name) => name.endsWith('.yml')).map((name) => join(RULES_DIR, name))
  assert.ok(files.length >= 2, `rule files: ${files.join(', ')}`)
  const run = await runTool('promtool', ['check', 'rules', ...files])
  assert.equal(run.code, 0, run.output)
  assert.doesNotMatch(run.output, /WARNING|FAILED/, run.output)
})

// The three files run side by side: the long-window one dominates, the others fit in its time.
suite('promtool test rules', { concurrency: true }, () => {
  for (const file of UNIT_TEST_FILES) {
    test(file, async () => {
      const run = await runTool('promtool', ['test', 'rules', join(TEST_DIR, file)], { timeoutMs: 300_000 })
      assert.equal(run.code, 0, run.output)
      assert.match(run.output, /SUCCESS/)
    })
  }
})

test('every alert has a severity, a summary, a description and a runbook that exists', () => {
  const alerts = loadRules().filter(({ rule }) => rule.alert !== undefined)
  assert.ok(alerts.length >= 15, `only ${alerts.length} alerts`)
  for (const { file, rule } of alerts) {
    const name = `${file} ${rule.alert ?? ''}`
    assert.ok(SEVERITIES.has(rule.labels?.severity ?? ''), `${name}: severity ${String(rule.labels?.severity)} is not page, ticket or warning`)
    for (const annotation of ['summary', 'description']) {
      assert.ok((rule.annotations?.[annotation] ?? '').trim().length > 10, `${name}: no ${annotation}`)
    }
    const runbook = `docs/runbooks/${runbookSlug(rule.alert ?? '')}.md`
    assert.equal(rule.annotations?.runbook_url, runbook, `${name}: runbook_url`)
    assert.ok(existsSync(join(ROOT, runbook)), `${name}: ${runbook} does not exist`)
    assert.ok(rule.for !== undefined && seconds(rule.for) > 0, `${name}: no \`for\``)
    if (file === 'cause-alerts.rules.yml') assert.equal(rule.labels?.severity, 'warning', `${name}: cause alerts are warnings, never pages`)
  }
})

test('every runbook belongs to an alert and says how to check with `outrigger probe --config`', () => {
  const slugs = new Set(loadRules().flatMap(({ rule }) => rule.alert === undefined ? [] : [runbookSlug(rule.alert)]))
  const pages = readdirSync(RUNBOOK_DIR).filter((name) => name.endsWith('.md') && name !== 'README.md')
  assert.deepEqual(pages.map((name) => name.replace(/\.md$/, '')).sort(), [...slugs].sort())
  for (const page of pages) {
    const text = readFileSync(join(RUNBOOK_DIR, page), 'utf8')
    for (const section of ['## What it means', '## How to check', '## What to do']) assert.ok(text.includes(section), `${page}: no "${section}"`)
    assert.match(text, /outrigger probe --config /, `${page}: does not show \`outrigger probe --config FILE\``)
  }
})

test('every alert has a unit test that fires it and one that keeps it silent; burn-rate alerts a long-window one', () => {
  const cases = alertCases()
  for (const { file, rule } of loadRules().filter(({ rule }) => rule.alert !== undefined)) {
    const name = rule.alert as string
    const severity = rule.labels?.severity
    const mine = cases.filter((entry) => entry.alertname === name)
    const fires = mine.filter((entry) => (entry.exp_alerts ?? []).some((alert) => alert.exp_labels?.severity === severity))
    assert.ok(fires.length > 0, `${file} ${name} (${String(severity)}): no unit test expects it to fire`)
    assert.ok(mine.some((entry) => (entry.exp_alerts ?? []).length === 0), `${file} ${name}: no unit test expects it to stay silent`)
    if (severity === 'page' || severity === 'ticket') {
      assert.ok(mine.some((entry) => seconds(entry.eval_time) >= 86_400 && (entry.exp_alerts ?? []).length === 0), `${name}: no healthy case over a day or more`)
    }
    if (severity === 'ticket') {
      assert.ok(fires.some((entry) => seconds(entry.eval_time) >= 3 * 86_400), `${name}: no long-window (3-day) case firing the ticket`)
    }
  }
})
