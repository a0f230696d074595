/**
 * Property-based tests over what targets send: whatever JSON arrives, the contract converter and
 * the mapping rules return families or a bounded failure — never an exception — and whatever
 * strings reach a label, the exposition stays valid and the values stay bounded.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import fc from 'fast-check'
import { FAILURE_REASONS } from '../../agent/errors.ts'
import { PrometheusExporter } from '../../agent/exporters/prometheus.ts'
import { compileMappings, MAX_LABEL_VALUE_LENGTH, type MappingRule, validateMappings } from '../../agent/sources/json-mapping.ts'
import { contractToFamilies } from '../../agent/sources/stats-contract.ts'
import type { CollectResult } from '../../agent/types.ts'
import { faultDocument } from '../support/fault-server.ts'
import { jsonish, mutate, mutation } from './json-mutation.ts'

/** Families or a failure with a reason from the closed set; never both empty-handed and silent. */
function assertWellFormed (result: CollectResult, reasons: readonly string[]): void {
  assert.ok(Array.isArray(result.families))
  if (result.failure !== undefined) {
    assert.ok(reasons.includes(result.failure.reason), result.failure.reason)
    assert.ok(FAILURE_REASONS.includes(result.failure.reason))
    assert.equal(typeof result.failure.message, 'string')
    assert.ok(result.failure.message.length > 0)
    assert.ok(!result.failure.message.includes('    at '), 'no stack trace in a failure message')
  } else {
    assert.ok(result.families.length > 0, 'success means something to expose')
  }
  for (const family of result.families) {
    for (const sample of family.samples) {
      if (family.type === 'histogram') {
        const histogram = sample as { count: number, sum: number }
        assert.ok(Number.isFinite(histogram.count) && histogram.count >= 0 && Number.isFinite(histogram.sum), family.name)
      } else {
        const value = (sample as { value: number }).value
        assert.ok(Number.isFinite(value), `${family.name} = ${value}: only finite values are exposed`)
        if (family.type === 'counter') assert.ok(value >= 0, `${family.name} = ${value}: counters are never negative`)
      }
    }
  }
}

test('contractToFamilies on any value: families or contract_mismatch, never an exception', () => {
  fc.assert(fc.property(jsonish, (value) => {
    const result = contractToFamilies(value, 'app')
    assertWellFormed(result, ['contract_mismatch'])
    if (result.failure !== undefined) assert.deepEqual(result.families, [])
  }), { numRuns: 500 })
})

test('contractToFamilies on a mutated valid document: families, or a mismatch naming the JSON pointer', () => {
  fc.assert(fc.property(fc.nat({ max: 1_000_000 }), fc.array(mutation(), { minLength: 1, maxLength: 3 }), (count, mutations) => {
    const document = mutations.reduce<unknown>((doc, m) => mutate(doc, m), faultDocument(count))
    const result = contractToFamilies(document, 'app')
    assertWellFormed(result, ['contract_mismatch'])
    if (result.failure !== undefined) {
      assert.match(result.failure.message, /^(\/|unsupported schema )/, `the message names where: ${result.failure.message}`)
    }
  }), { numRuns: 1000 })
})

const RULES: MappingRule[] = [
  { name: 'depth', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { queue: '$.name', tier: 'gold' } },
  { name: 'hits', type: 'counter', path: '$.caches.*', value: '$.hits', labels: { cache: '@key' } },
  { name: 'status', type: 'gauge', path: '$.status', valueMap: { up: 1, down: 0, NaN: 0 } },
  { name: 'uptime', type: 'gauge', path: '$..uptime' },
  { name: 'busy', type: 'gauge', path: '$.workers[?(@.busy)]', value: '$.busy', labels: { worker: '$.id' } }
]

/** Documents that are shaped like what the rules read, with arbitrary leaves. */
const mappingDocument: fc.Arbitrary<unknown> = fc.record({
  queues: fc.array(fc.record({ name: fc.oneof(fc.string({ maxLength: 300 }), jsonish), depth: jsonish }, { requiredKeys: [] }), { maxLength: 20 }),
  caches: fc.dictionary(fc.string({ maxLength: 200 }), fc.record({ hits: jsonish }, { requiredKeys: [] }), { maxKeys: 10 }),
  status: jsonish,
  uptime: jsonish,
  workers: fc.array(fc.record({ id: jsonish, busy: jsonish }, { requiredKeys: [] }), { maxLength: 10 })
}, { requiredKeys: [] })

test('mapping rules on any document: families or a mapping failure; values finite, counters non-negative, labels bounded', () => {
  const compiled = compileMappings(RULES, { maxSeriesPerRule: 15 })
  fc.assert(fc.property(fc.oneof(mappingDocument, jsonish), (document) => {
    const result = compiled.apply(document, 'app')
    assertWellFormed(result, ['mapping', 'too_many_series'])
    for (const family of result.families) {
      assert.ok(family.samples.length <= 15, 'the per-rule series cap holds')
      for (const sample of family.samples) {
        for (const value of Object.values(sample.labels)) assert.ok(value.length <= MAX_LABEL_VALUE_LENGTH, `label value of ${value.length} characters`)
      }
    }
  }), { numRuns: 1000 })
})

test('"NaN" and "Infinity" strings: skipped with a mapping failure unless valueMap maps them; "1e999" is not finite either', () => {
  const compiled = compileMappings([
    { name: 'plain', type: 'gauge', path: '$.values[*]', labels: { at: '@key' } },
    { name: 'mapped', type: 'gauge', path: '$.values[*]', labels: { at: '@key' }, valueMap: { NaN: 0, Infinity: 1 } }
  ])
  const result = compiled.apply({ values: ['NaN', 'Infinity', '-Infinity', '1e999', '12.5'] }, 'app')
  const plain = result.families.find((family) => family.name === 'app_plain')
  assert.deepEqual(plain?.samples.map((sample) => (sample as { value: number }).value), [12.5], 'only the finite decimal is exposed')
  const mapped = result.families.find((family) => family.name === 'app_mapped')
  assert.deepEqual(mapped?.samples.map((sample) => (sample as { value: number }).value), [0, 1, 12.5], 'valueMap decides what a word means')
  assert.equal(result.failure?.reason, 'mapping')
  assert.match(result.failure?.message ?? '', /rule 0 \(app_plain\): value "NaN" at \$\['values'\]\[0\] is not a number and not in valueMap \(4 samples skipped\)/)
})

test('arbitrary mapping rules: compiled, or refused with OUTRIGGER_ERR_MAPPING_INVALID naming the rule and field; applying never throws', () => {
  const path = fc.oneof(fc.constantFrom('$', '$.a', '$..b', '$.a[*]', '$[?(@.x > 1)]', '$.a[-1:]', '$[', '$..', 'a.b', '$.a.*~', '@key'), fc.string({ maxLength: 20 }).map((text) => `$${text}`))
  const rule = fc.record({
    name: fc.oneof(fc.constantFrom('ok_name', 'app_x_total', '9bad', 'has space', ''), fc.string({ maxLength: 20 })),
    type: fc.oneof(fc.constantFrom('gauge', 'counter'), jsonish),
    path,
    value: fc.option(path, { nil: undefined }),
    labels: fc.option(fc.dictionary(fc.oneof(fc.constantFrom('target', '__x', 'ok', '0no'), fc.string({ maxLength: 8 })), fc.oneof(path, fc.string({ maxLength: 10 }), jsonish), { maxKeys: 3 }), { nil: undefined }),
    valueMap: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), jsonish, { maxKeys: 3 }), { nil: undefined }),
    help: fc.option(jsonish, { nil: undefined })
  }, { requiredKeys: ['name', 'type', 'path'] })
  fc.assert(fc.property(fc.array(rule, { minLength: 1, maxLength: 3 }), jsonish, (rules, document) => {
    let compiled
    try {
      compiled = compileMappings(rules as MappingRule[])
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'OUTRIGGER_ERR_MAPPING_INVALID', String(error))
      const problems = validateMappings(rules)
      assert.ok(problems.length > 0, 'refused only with a problem to name')
      for (const problem of problems) {
        assert.ok((error as Error).message.includes(`rule ${problem.index} ${problem.field}: `), `names rule ${problem.index} and its field ${problem.field}`)
        assert.ok(problem.field !== '' && !/^[^[]*:/.test(problem.field), `the field reads unambiguously: ${problem.field}`)
      }
      return
    }
    assertWellFormed(compiled.apply(document, 'app'), ['mapping', 'too_many_series'])
  }), { numRuns: 500 })
})

/** Strings that break naive exposition: quotes, backslashes, newlines, `# EOF`, lone surrogates, emoji, NUL. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\r', '}', '{', '=', ',', ' ', '#', '\u0000', '\ud800', '\udfff', '😀', 'é', 'a'), minLength: 1, maxLength: 64 })
)

/** The label values of `name` in a text exposition, unescaped as Prometheus reads them. */
function labelValues (exposition: string, name: string, label: string): string[] {
  const values: string[] = []
  const pattern = new RegExp(`^${name}\\{.*?${label}="((?:[^"\\\\]|\\\\.)*)"`, 'gm')
  for (const match of exposition.matchAll(pattern)) {
    values.push((match[1] as string).replace(/\\(.)/g, (_all, char: string) => char === 'n' ? '\n' : char))
  }
  return values
}

test('label values from targets are escaped: any route string yields valid exposition (promtool) that reads back as sent', async () => {
  const exporter = new PrometheusExporter()
  await fc.assert(fc.asyncProperty(fc.uniqueArray(hostileText, { minLength: 1, maxLength: 8 }), async (routes) => {
    const document = faultDocument(3)
    document.http.routes = routes.map((route) => ({ ...document.http.routes[0]!, route }))
    const result = contractToFamilies(JSON.parse(JSON.stringify(document)), 'app')
    assert.equal(result.failure, undefined, result.failure?.message)
    const { body } = await exporter.render(result.families, 'prometheus')
    const wire = Buffer.from(body, 'utf8')
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: wire, encoding: 'utf8' })
    assert.equal(promtool.status, 0, `${promtool.stdout}${promtool.stderr}`)
    // As UTF-8 carries them: a lone surrogate becomes U+FFFD on the wire, everything else is kept.
    const expected = routes.map((route) => Buffer.from(route, 'utf8').toString('utf8')).sort()
    assert.deepEqual(labelValues(wire.toString('utf8'), 'app_http_requests_total', 'route').sort(), expected)
  }), { numRuns: 25 })
})
