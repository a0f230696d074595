import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Scheduler } from '../../agent/pipeline/scheduler.ts'
import type { CollectResult, Source } from '../../agent/types.ts'
import { waitUntil } from '../support/wait.ts'

/** A source whose runs are controlled by the test. */
class FakeSource implements Source {
  readonly id: string
  readonly target = 't'
  readonly kind = 'stats' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  active = 0
  maxActive = 0
  calls = 0
  readonly behaviour: (signal: AbortSignal, call: number) => Promise<CollectResult>

  constructor (id: string, intervalSeconds: number, timeoutSeconds: number, behaviour: (signal: AbortSignal, call: number) => Promise<CollectResult>) {
    this.id = `t/${id}`
    this.intervalSeconds = intervalSeconds
    this.timeoutSeconds = timeoutSeconds
    this.behaviour = behaviour
  }

  async collect (signal: AbortSignal): Promise<CollectResult> {
    this.calls++
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    try {
      return await this.behaviour(signal, this.calls)
    } finally {
      this.active--
    }
  }
}

test('runs each source repeatedly and reports every run', async (t) => {
  const source = new FakeSource('a', 0.02, 0.01, async () => ({ families: [] }))
  const runs: CollectResult[] = []
  const scheduler = new Scheduler([source], { onRun: (_s, result) => runs.push(result), jitter: 0 })
  t.after(() => scheduler.stop())
  scheduler.start()
  await waitUntil(() => runs.length >= 3, { what: 'three runs', intervalMs: 5 })
  assert.ok(runs.every((run) => run.failure === undefined))
})

test('a source that ignores its deadline is reported as a timeout and never overlaps itself', async (t) => {
  let release: (() => void) | undefined
  const hung = new Promise<CollectResult>((resolve) => { release = () => resolve({ families: [] }) })
  const source = new FakeSource('hung', 0.02, 0.01, () => hung)
  const runs: CollectResult[] = []
  const scheduler = new Scheduler([source], { onRun: (_s, result) => runs.push(result), jitter: 0, graceMs: 10 })
  t.after(async () => { release?.(); await scheduler.stop() })
  scheduler.start()
  await waitUntil(() => runs.length >= 3, { what: 'three runs to give up', intervalMs: 5 })
  assert.ok(runs.every((run) => run.failure?.reason === 'timeout'))
  assert.match(runs[2]?.failure?.message ?? '', /previous run overran/)
  assert.equal(source.calls, 1, 'collect is not called again while the overrunning call is unsettled')
  assert.equal(source.maxActive, 1)
})

test('a source that throws becomes an internal failure, and the loop goes on', async (t) => {
  const source = new FakeSource('boom', 0.02, 0.01, async (_signal, call) => {
    if (call === 1) {
      throw new Error('bug')
    }
    return { families: [] }
  })
  const runs: CollectResult[] = []
  const scheduler = new Scheduler([source], { onRun: (_s, result) => runs.push(result), jitter: 0 })
  t.after(() => scheduler.stop())
  scheduler.start()
  await waitUntil(() => runs.length >= 2, { what: 'a second run', intervalMs: 5 })
  assert.deepEqual(runs[0]?.failure, { reason: 'internal', message: 'bug' })
  assert.equal(runs[1]?.failure, undefined)
})

test('the run signal aborts at the source timeout', async () => {
  const source = new FakeSource('slow', 10, 0.02, (signal) => new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve({ families: [], failure: { reason: 'timeout', message: 'aborted' } }))
  }))
  const runs: CollectResult[] = []
  const scheduler = new Scheduler([source], { onRun: (_s, result) => runs.push(result) })
  await scheduler.runAll()
  assert.equal(runs[0]?.failure?.message, 'aborted')
  await scheduler.stop()
})

test('stop() aborts runs in flight, reports nothing more, and lets the process exit', async () => {
  let seenAbort = false
  const source = new FakeSource('long', 100, 50, (signal) => new Promise((resolve) => {
    signal.addEventListener('abort', () => { seenAbort = true; resolve({ families: [] }) })
  }))
  const runs: CollectResult[] = []
  const scheduler = new Scheduler([source], { onRun: (_s, result) => runs.push(result), jitter: 0 })
  scheduler.start()
  await waitUntil(() => source.calls === 1, { what: 'the run to start', intervalMs: 5 })
  await scheduler.stop()
  await scheduler.stop()
  assert.ok(seenAbort)
  assert.equal(runs.length, 0)
})
