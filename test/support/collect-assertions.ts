/**
 * Assertions on a source's `CollectResult`, shared by the per-source tests.
 */
import assert from 'node:assert/strict'
import type { CollectResult } from '../../agent/types.ts'

/** The value of counter/gauge `name` at the first sample whose labels include `labels`. */
export function sampleValue (result: CollectResult, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = result.families.find((f) => f.name === name)
  if (family === undefined || family.type === 'histogram') return undefined
  return family.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

/** A deadline for one run in a test: generous, so only a hang trips it. */
export const deadline = (): AbortSignal => AbortSignal.timeout(5000)

/** The run succeeded: no failure and `probe_success 1`. */
export function assertSuccess (result: CollectResult): void {
  assert.equal(result.failure, undefined, result.failure?.message)
  assert.equal(sampleValue(result, 'probe_success'), 1)
}

/** The run failed with `reason` and `probe_success 0`. */
export function assertFailure (result: CollectResult, reason: string): void {
  assert.equal(result.failure?.reason, reason, result.failure?.message)
  assert.equal(sampleValue(result, 'probe_success'), 0)
}
