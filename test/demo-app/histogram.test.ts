import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Histogram, LATENCY_BUCKETS_SECONDS } from '../../demo-app/histogram.ts'

test('observations land in cumulative buckets with sum and count', () => {
  const h = new Histogram([0.1, 0.5, 1])
  for (const v of [0.05, 0.1, 0.3, 2, -1]) h.observe(v)
  assert.deepEqual(h.snapshot(), {
    buckets: [{ le: 0.1, count: 3 }, { le: 0.5, count: 4 }, { le: 1, count: 4 }],
    sum: 0.05 + 0.1 + 0.3 + 2,
    count: 5
  })
})

test('the default buckets include every SLO threshold', () => {
  for (const le of [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) assert.ok(LATENCY_BUCKETS_SECONDS.includes(le))
  assert.equal(new Histogram().snapshot().buckets.length, LATENCY_BUCKETS_SECONDS.length)
})

test('bounds must ascend', () => {
  assert.throws(() => new Histogram([1, 0.5]), /strictly ascending/)
})
