import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileMappings, validateMappings, MAX_LABEL_VALUE_LENGTH } from '../../agent/sources/json-mapping.ts'
import type { MappingRule } from '../../agent/sources/json-mapping.ts'
import { OutriggerError } from '../../agent/errors.ts'
import type { CollectResult, MetricFamily } from '../../agent/types.ts'

const doc = {
  status: 'ok',
  ready: true,
  uptime: '3600.5',
  queues: [
    { name: 'email', depth: 3, paused: false },
    { name: 'sms', depth: 0, paused: true }
  ],
  caches: {
    users: { hits: 10, misses: 2 },
    sessions: { hits: 7, misses: 1 }
  },
  workers: [{ id: 'w1', busy: true }, { id: 'w2', busy: false }]
}

function family (result: CollectResult, name: string): MetricFamily {
  const found = result.families.find((f) => f.name === name)
  assert.ok(found, `family ${name} in ${JSON.stringify(result.families.map((f) => f.name))}`)
  return found
}

function values (result: CollectResult, name: string): Array<[Record<string, string>, number]> {
  const f = family(result, name)
  assert.notEqual(f.type, 'histogram')
  return f.samples.map((s) => [{ ...s.labels }, (s as { value: number }).value])
}

test('objects + value: labels from element paths, @key and literals', () => {
  const mappings = compileMappings([
    { name: 'queue_depth', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { queue: '$.name', tier: 'gold' } },
    { name: 'cache_hits', type: 'counter', help: 'Cache hits by cache.', path: '$.caches.*', value: '$.hits', labels: { cache: '@key' } }
  ])
  const result = mappings.apply(doc, 'svc')
  assert.equal(result.failure, undefined)
  assert.deepEqual(values(result, 'app_queue_depth'), [
    [{ target: 'svc', queue: 'email', tier: 'gold' }, 3],
    [{ target: 'svc', queue: 'sms', tier: 'gold' }, 0]
  ])
  const hits = family(result, 'app_cache_hits_total')
  assert.equal(hits.type, 'counter')
  assert.equal(hits.help, 'Cache hits by cache.')
  assert.deepEqual(values(result, 'app_cache_hits_total'), [
    [{ target: 'svc', cache: 'users' }, 10],
    [{ target: 'svc', cache: 'sessions' }, 7]
  ])
  assert.deepEqual(mappings.metrics.map((m) => m.name), ['app_queue_depth', 'app_cache_hits_total'])
})

test('values only: booleans become 1/0, labels come from the holding object, numeric strings are parsed', () => {
  const result = compileMappings([
    { name: 'worker_busy', type: 'gauge', path: '$.workers[*].busy', labels: { worker: '$.id' } },
    { name: 'ready', type: 'gauge', path: '$.ready' },
    { name: 'uptime_seconds', type: 'gauge', path: '$.uptime' }
  ]).apply(doc, 'svc')
  assert.equal(result.failure, undefined)
  assert.deepEqual(values(result, 'app_worker_busy'), [[{ target: 'svc', worker: 'w1' }, 1], [{ target: 'svc', worker: 'w2' }, 0]])
  assert.deepEqual(values(result, 'app_ready'), [[{ target: 'svc' }, 1]])
  assert.deepEqual(values(result, 'app_uptime_seconds'), [[{ target: 'svc' }, 3600.5]])
})

test('valueMap turns strings into numbers', () => {
  const rules: MappingRule[] = [{ name: 'status', type: 'gauge', path: '$.status', valueMap: { ok: 1, degraded: 0.5, down: 0 } }]
  assert.deepEqual(values(compileMappings(rules).apply(doc, 't'), 'app_status'), [[{ target: 't' }, 1]])
  assert.deepEqual(values(compileMappings(rules).apply({ status: 'degraded' }, 't'), 'app_status'), [[{ target: 't' }, 0.5]])
})

test('an unmapped string is a mapping failure naming the rule and the value; other samples survive', () => {
  const result = compileMappings([
    { name: 'queue_state', type: 'gauge', path: '$.queues[*]', value: '$.state', labels: { queue: '$.name' }, valueMap: { running: 1 } }
  ]).apply({ queues: [{ name: 'a', state: 'running' }, { name: 'b', state: 'exploded' }] }, 't')
  assert.deepEqual(values(result, 'app_queue_state'), [[{ target: 't', queue: 'a' }, 1]])
  assert.equal(result.failure?.reason, 'mapping')
  assert.match(result.failure.message, /rule 0 \(app_queue_state\)/)
  assert.match(result.failure.message, /"exploded"/)
  assert.match(result.failure.message, /\$\['queues'\]\[1\]\['state'\]/)
})

test('null and missing values are per-rule failures', () => {
  const result = compileMappings([
    { name: 'a', type: 'gauge', path: '$.a' },
    { name: 'b', type: 'gauge', path: '$.items[*]', value: '$.v' }
  ]).apply({ a: null, items: [{ x: 1 }] }, 't')
  assert.deepEqual(result.families, [])
  assert.equal(result.failure?.reason, 'mapping')
  assert.match(result.failure.message, /rule 0 \(app_a\): value at \$\['a'\] is null/)
  assert.match(result.failure.message, /rule 1 \(app_b\): value \$\.v is missing/)
})

test('a path that matches nothing fails that rule only: the other rules still produce families', () => {
  const result = compileMappings([
    { name: 'ready', type: 'gauge', path: '$.ready' },
    { name: 'gone', type: 'gauge', path: '$.no.such.thing' },
    { name: 'queue_depth', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { queue: '$.name' } }
  ]).apply(doc, 't')
  assert.deepEqual(result.families.map((f) => f.name), ['app_ready', 'app_queue_depth'])
  assert.deepEqual(result.failure, { reason: 'mapping', message: 'rule 1 (app_gone): path $.no.such.thing matched nothing' })
})

test('counters get _total once, names get app_ once', () => {
  const mappings = compileMappings([
    { name: 'jobs', type: 'counter', path: '$.a' },
    { name: 'app_jobs_done_total', type: 'counter', path: '$.a' },
    { name: 'app_depth', type: 'gauge', path: '$.a' }
  ])
  assert.deepEqual(mappings.metrics.map((m) => [m.name, m.type]), [
    ['app_jobs_total', 'counter'], ['app_jobs_done_total', 'counter'], ['app_depth', 'gauge']
  ])
})

test('a negative counter value is refused', () => {
  const result = compileMappings([{ name: 'jobs', type: 'counter', path: '$.a' }]).apply({ a: -3 }, 't')
  assert.deepEqual(result.families, [])
  assert.match(result.failure?.message ?? '', /negative/)
})

test('label values are cut to the maximum length', () => {
  const long = 'x'.repeat(500)
  const result = compileMappings([{ name: 'q', type: 'gauge', path: '$.q[*]', value: '$.v', labels: { name: '$.n' } }])
    .apply({ q: [{ n: long, v: 1 }] }, 't')
  assert.equal(values(result, 'app_q')[0]![0].name, 'x'.repeat(MAX_LABEL_VALUE_LENGTH))
})

test('duplicate label sets in one rule fail the rule', () => {
  const result = compileMappings([
    { name: 'q', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { tier: 'gold' } },
    { name: 'ready', type: 'gauge', path: '$.ready' }
  ]).apply(doc, 't')
  assert.deepEqual(result.families.map((f) => f.name), ['app_ready'])
  assert.equal(result.failure?.reason, 'mapping')
  assert.match(result.failure.message, /rule 0 \(app_q\): duplicate label set/)
})

test('more series than the cap fail the rule with too_many_series', () => {
  const big = { items: Array.from({ length: 11 }, (_, i) => ({ id: `i${i}`, v: i })) }
  const rules: MappingRule[] = [{ name: 'item', type: 'gauge', path: '$.items[*]', value: '$.v', labels: { id: '$.id' } }]
  const capped = compileMappings(rules, { maxSeriesPerRule: 10 }).apply(big, 't')
  assert.deepEqual(capped.families, [])
  assert.equal(capped.failure?.reason, 'too_many_series')
  assert.match(capped.failure.message, /rule 0 \(app_item\): more than 10 series/)

  const atCap = compileMappings(rules, { maxSeriesPerRule: 11 }).apply(big, 't')
  assert.equal(atCap.failure, undefined)
  assert.equal(family(atCap, 'app_item').samples.length, 11)
})

test('the default cap is 1000 series per rule', () => {
  const big = { items: Array.from({ length: 1001 }, (_, i) => i) }
  const rules: MappingRule[] = [{ name: 'item', type: 'gauge', path: '$.items[*]', labels: { i: '@key' } }]
  assert.equal(compileMappings(rules).apply(big, 't').failure?.reason, 'too_many_series')
  assert.equal(compileMappings(rules).apply({ items: big.items.slice(1) }, 't').failure, undefined)
})

test('filters in paths work', () => {
  const result = compileMappings([
    { name: 'busy_queue_depth', type: 'gauge', path: '$.queues[?(@.depth > 0)]', value: '$.depth', labels: { queue: '$.name' } }
  ]).apply(doc, 't')
  assert.deepEqual(values(result, 'app_busy_queue_depth'), [[{ target: 't', queue: 'email' }, 3]])
})

test('a filter that fails on one element skips that sample and names it; the others are kept', () => {
  const mappings = compileMappings([
    { name: 'depth', type: 'gauge', path: '$.queues[*]', value: '$.depth[?(@.n > 0)].n', labels: { queue: '$.name' } },
    { name: 'size', type: 'gauge', path: '$.queues[*]', value: '$.size', labels: { queue: '$.meta[?(@.k > 0)].k' } }
  ])
  const result = mappings.apply({ queues: [{ name: 'a', depth: [{ n: 4 }], size: 1, meta: [{ k: 7 }] }, { name: 'b', depth: [null], size: 2, meta: [null] }] }, 't')
  assert.deepEqual(values(result, 'app_depth'), [[{ target: 't', queue: 'a' }, 4]])
  assert.deepEqual(values(result, 'app_size'), [[{ target: 't', queue: '7' }, 1]])
  assert.equal(result.failure?.reason, 'mapping')
  assert.match(result.failure?.message ?? '', /rule 0 \(app_depth\): value \$\.depth\[\?\(@\.n > 0\)\]\.n could not be evaluated at \$\['queues'\]\[1\]/)
  assert.match(result.failure?.message ?? '', /rule 1 \(app_size\): label queue: \$\.meta\[\?\(@\.k > 0\)\]\.k could not be evaluated at \$\['queues'\]\[1\]/)
  assert.ok(!(result.failure?.message ?? '').includes('    at '), 'no stack trace')
})

test('a document that is not an object yields path failures, not exceptions', () => {
  const mappings = compileMappings([{ name: 'a', type: 'gauge', path: '$.a' }])
  for (const notAnObject of [null, 0, 'text', [1, 2]]) {
    const result = mappings.apply(notAnObject, 't')
    assert.deepEqual(result.families, [])
    assert.equal(result.failure?.reason, 'mapping')
  }
})

test('bad rules throw OUTRIGGER_ERR_MAPPING_INVALID naming the rule index and field', () => {
  const bad = (rules: unknown[], ...fragments: string[]): void => {
    assert.throws(() => compileMappings(rules as MappingRule[]), (error: unknown) => {
      assert.ok(error instanceof OutriggerError)
      assert.equal(error.code, 'OUTRIGGER_ERR_MAPPING_INVALID')
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${error.message} includes ${fragment}`)
      return true
    })
  }
  bad([{ name: 'ok', type: 'gauge', path: '$.a' }, { name: 'bad-name', type: 'gauge', path: '$.a' }], 'rule 1 name', '"app_bad-name"')
  bad([{ name: 'requests_total', type: 'gauge', path: '$.a' }], 'rule 0 name', 'must not end in _total')
  bad([{ name: 'x', type: 'histogram', path: '$.a' }], 'rule 0 type')
  bad([{ name: 'x', type: 'gauge', path: 'a.b' }], 'rule 0 path', 'starting with "$"')
  bad([{ name: 'x', type: 'gauge', path: '$.a', labels: { 'bad-label': '$.n' } }], 'rule 0 labels["bad-label"]')
  bad([{ name: 'x', type: 'gauge', path: '$.a', labels: { target: 'x' } }], 'rule 0 labels.target', 'reserved')
  bad([{ name: 'x', type: 'gauge', path: '$.a', labels: { q: '@name' } }], 'rule 0 labels.q', '@key')
  bad([{ name: 'x', type: 'gauge', path: '$.a', valueMap: { up: 'one' } }], 'rule 0 valueMap.up')
  bad([{ name: 'x', type: 'gauge', path: '$.a', valueMap: { 'a: b': {} } }], 'rule 0 valueMap["a: b"]: must be a finite number')
  bad([{ name: 'x', type: 'gauge', path: '$.a', vlaue: '$.b' }], 'rule 0 vlaue', 'unknown key')
  bad([{ name: 'x', type: 'counter', path: '$.a' }, { name: 'x_total', type: 'counter', path: '$.b' }], 'rule 1 name', 'already produced by rule 0')
})

test('validateMappings lists every problem with index and field', () => {
  const problems = validateMappings([
    { name: 'fine', type: 'gauge', path: '$.a' },
    { name: '', type: 'gauge', path: 'nope', help: 3 },
    'not a rule'
  ])
  assert.deepEqual(problems.map((p) => [p.index, p.field]), [[1, 'name'], [1, 'help'], [1, 'path'], [2, '(rule)']])
})
