import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { runTool } from '../slo/promtool.ts'
import { loadDashboards, panelsOf, queryVariables, toPromql, variableQuery, variableQueryExpression } from './dashboard-files.ts'

// promtool has no "parse this expression" command, but `check rules` parses (and type-checks) every
// rule's expression with Prometheus's own parser: each dashboard query becomes a recording rule,
// with Grafana's variables replaced by what they stand for.

/** Every dashboard query (and variable query) as PromQL, named for the failure message. */
function dashboardExpressions (): Array<{ where: string, expr: string }> {
  const out: Array<{ where: string, expr: string }> = []
  for (const { file, dashboard } of loadDashboards()) {
    for (const panel of panelsOf(dashboard)) {
      for (const target of panel.targets ?? []) {
        out.push({ where: `${file} "${panel.title ?? ''}" ${target.refId ?? ''}`, expr: toPromql(target.expr ?? '', '5m') })
      }
    }
    for (const variable of queryVariables(dashboard)) {
      const inner = variableQueryExpression(variableQuery(variable))
      if (inner !== undefined) out.push({ where: `${file} variable ${variable.name}`, expr: toPromql(inner, '5m') })
    }
  }
  return out
}

async function checkAsRules (t: { after: (fn: () => Promise<void>) => void }, expressions: ReadonlyArray<{ where: string, expr: string }>): Promise<{ code: number, output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-promql-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'expressions.rules.yml')
  const rules = expressions.map((expression, index) => ({ record: `lint:expression_${index}`, expr: expression.expr }))
  await writeFile(file, stringify({ groups: [{ name: 'dashboard-expressions', rules }] }, { lineWidth: 0 }))
  return await runTool('promtool', ['check', 'rules', file])
}

test('promtool parses every dashboard query and variable query', async (t) => {
  const expressions = dashboardExpressions()
  assert.ok(expressions.length > 60, `only ${expressions.length} expressions found`)
  const run = await checkAsRules(t, expressions)
  assert.equal(run.code, 0, `${run.output}\nexpressions, numbered as in the output:\n${expressions.map((e, i) => `${i}: ${e.where}: ${e.expr}`).join('\n')}`)
  assert.match(run.output, new RegExp(`SUCCESS: ${expressions.length} rules found`))
})

test('the promtool check fails on an expression that does not parse', async (t) => {
  const run = await checkAsRules(t, [{ where: 'broken', expr: 'sum(rate(app_http_requests_total[5m])' }])
  assert.notEqual(run.code, 0, run.output)
  assert.match(run.output, /parse error|unclosed/i)
})
