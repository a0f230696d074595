/**
 * docs/metrics.md lists exactly the metrics the code declares: a metric added without a row, or a
 * row left behind by a removed metric, fails here.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { test } from 'node:test'

const ROOT = resolve(import.meta.dirname, '../..')
const METRIC = /^(app|probe|outrigger)_[a-z0-9_]+$/

/** Every metric name a module under agent/ exports, as a string constant or a `{ name }` table entry. */
async function declaredMetricNames (): Promise<Set<string>> {
  const names = new Set<string>()
  const files = (await readdir(join(ROOT, 'agent'), { recursive: true })).filter((file) => file.endsWith('.ts') && !file.startsWith('bin/') && file !== 'main.ts')
  for (const file of files) {
    const module = await import(join(ROOT, 'agent', file)) as Record<string, unknown>
    for (const value of Object.values(module)) {
      if (typeof value === 'string' && METRIC.test(value)) names.add(value)
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const entry of Object.values(value)) {
          const name = (entry as { name?: unknown } | null)?.name
          if (typeof name === 'string' && METRIC.test(name)) names.add(name)
        }
      }
    }
  }
  return names
}

async function documentedMetricNames (): Promise<Set<string>> {
  const text = await readFile(join(ROOT, 'docs/metrics.md'), 'utf8')
  return new Set([...text.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((match) => match[1] as string))
}

test('every metric in the code has a row in docs/metrics.md, and every row a metric', async () => {
  const declared = await declaredMetricNames()
  const documented = await documentedMetricNames()
  assert.ok(declared.size > 40, `found only ${declared.size} metric names in agent/`)
  assert.deepEqual([...declared].filter((name) => !documented.has(name)).sort(), [], 'metrics missing from docs/metrics.md')
  assert.deepEqual([...documented].filter((name) => !declared.has(name)).sort(), [], 'rows in docs/metrics.md for metrics the code does not have')
})
