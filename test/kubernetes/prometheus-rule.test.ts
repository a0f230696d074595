/**
 * The PrometheusRule in deploy/kubernetes carries exactly the compose stack's rules: it is what
 * scripts/generate-k8s-rules.ts makes of compose/prometheus/rules/*.yml, and promtool accepts it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { COMPOSE_RULES_DIR, PROMETHEUS_RULE_PATH, RuleSourceError, renderPrometheusRule } from '../../scripts/generate-k8s-rules.ts'
import { readResources, validateResource } from './kubernetes-schemas.ts'

const execFileAsync = promisify(execFile)

async function tempDir (t: { after (fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-k8s-rules-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('the committed PrometheusRule is what the generator makes of the compose rules', async () => {
  const committed = await readFile(PROMETHEUS_RULE_PATH, 'utf8')
  assert.ok(committed === await renderPrometheusRule(), 'deploy/kubernetes/base/prometheusrule.yaml is stale: run node scripts/generate-k8s-rules.ts')
})

test('the PrometheusRule holds every compose rule group, in order, unchanged', async () => {
  const files = (await readdir(COMPOSE_RULES_DIR)).filter((name) => /\.ya?ml$/.test(name)).sort()
  assert.ok(files.length > 0)
  const composeGroups: unknown[] = []
  for (const file of files) {
    composeGroups.push(...(parseYaml(await readFile(join(COMPOSE_RULES_DIR, file), 'utf8')) as { groups: unknown[] }).groups)
  }
  const [rule, ...others] = await readResources(PROMETHEUS_RULE_PATH)
  assert.equal(others.length, 0)
  assert.deepEqual(validateResource(rule!), [])
  assert.deepEqual((rule!.object.spec as { groups: unknown[] }).groups, composeGroups)
})

test('promtool accepts the PrometheusRule\'s groups as a rule file', async (t) => {
  const [rule] = await readResources(PROMETHEUS_RULE_PATH)
  const file = join(await tempDir(t), 'rules.yml')
  await writeFile(file, stringifyYaml({ groups: (rule!.object.spec as { groups: unknown[] }).groups }))
  const { stdout } = await execFileAsync('promtool', ['check', 'rules', file])
  assert.match(stdout, /SUCCESS: \d+ rules found/)
})

test('the generator refuses a duplicate group name, a file without groups and an empty folder', async (t) => {
  const dir = await tempDir(t)
  await assert.rejects(renderPrometheusRule(dir), (error: unknown) => error instanceof RuleSourceError && /holds no \*\.yml rule file/.test(error.message))

  const group = (name: string): string => stringifyYaml({ groups: [{ name, rules: [{ record: 'x:y', expr: 'vector(1)' }] }] })
  await writeFile(join(dir, 'a.yml'), group('one'))
  await writeFile(join(dir, 'b.yml'), group('one'))
  await assert.rejects(renderPrometheusRule(dir), (error: unknown) =>
    error instanceof RuleSourceError && error.code === 'OUTRIGGER_ERR_RULE_SOURCE' && /b\.yml: group "one" is also in .*a\.yml/.test(error.message))

  await writeFile(join(dir, 'b.yml'), 'rules: []\n')
  await assert.rejects(renderPrometheusRule(dir), (error: unknown) => error instanceof RuleSourceError && /b\.yml: has no `groups` list/.test(error.message))

  await writeFile(join(dir, 'b.yml'), group('two'))
  const rendered = parseYaml(await renderPrometheusRule(dir)) as { spec: { groups: Array<{ name: string }> } }
  assert.deepEqual(rendered.spec.groups.map((g) => g.name), ['one', 'two'])
})
