/**
 * The agent against targets that misbehave in every way at once: each fault is its own target,
 * all in one running agent. For each: the agent stays up, `/metrics` answers, the source is down
 * with the right bounded reason, memory stays bounded, and once the fault clears the source
 * recovers by the scheduler's own next run.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { stringify } from 'yaml'
import type { FailureReason } from '../../agent/errors.ts'
import { HUGE_BODY_BYTES, startFaultServer, type FaultMode, type FaultServer } from '../support/fault-server.ts'
import { waitUntil } from '../support/wait.ts'
import { sampleValue, startInProcessAgent } from './in-process-agent.ts'

/** Each fault and the reason the stats source must report for it. */
const FAULTS: ReadonlyArray<readonly [FaultMode, FailureReason]> = [
  ['refuse', 'refused'],
  ['hang', 'timeout'],
  ['trickle', 'timeout'],
  ['status-500', 'http_status'],
  ['malformed-json', 'invalid_json'],
  ['wrong-shape', 'contract_mismatch'],
  ['huge-body', 'body_too_large'],
  ['invalid-utf8', 'invalid_json'],
  ['redirect-loop', 'http_status'],
  ['nan', 'invalid_json'],
  ['infinity', 'invalid_json'],
  ['overflow', 'contract_mismatch'],
  ['nan-string', 'contract_mismatch'],
  ['negative-counter', 'contract_mismatch']
]

/** Body limit of the agent under test; the 50 MB answer is cut soon after it. */
const BODY_LIMIT_BYTES = 1024 * 1024

test('every target fault: the agent stays up, /metrics answers, up=0 with the right reason, then recovery by the next run', { timeout: 90_000 }, async (t) => {
  const servers = new Map<FaultMode, FaultServer>()
  t.after(async () => { await Promise.all([...servers.values()].map((server) => server.close())) })
  for (const [mode] of FAULTS) servers.set(mode, await startFaultServer({ mode }))

  const yaml = stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '2s', timeout: '1s' },
    limits: { bodyBytes: BODY_LIMIT_BYTES },
    targets: [
      ...FAULTS.map(([mode]) => ({ name: mode, stats: { url: `${servers.get(mode)?.url}/stats` } })),
      // A name that does not resolve: no fault to clear, the lookup itself fails.
      { name: 'dns', stats: { url: 'http://outrigger-fault-test.invalid/stats' } },
      // A healthy neighbour: one target's fault never spills into another's.
      { name: 'neighbour', stats: { url: `${(await healthy(t)).url}/stats` } }
    ]
  })
  const { agent, get, sources } = await startInProcessAgent(t, yaml)
  await agent.collectNow()

  const metrics = await get('/metrics')
  assert.equal(metrics.status, 200)
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics.body, encoding: 'utf8' })
  assert.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'the exposition stays valid whatever the targets sent')
  assert.equal((await get('/healthz')).status, 200)

  const before = await sources()
  for (const [mode, reason] of FAULTS) {
    const source = before.get(`${mode}/stats`)
    assert.equal(source?.health, 'down', `${mode}: ${JSON.stringify(source?.lastError)}`)
    assert.equal(source?.lastError?.reason, reason, `${mode}: ${source?.lastError?.message}`)
    assert.equal(sampleValue(metrics.body, 'outrigger_source_up', `target="${mode}",source="stats"`), 0, mode)
    assert.ok((sampleValue(metrics.body, 'outrigger_source_errors_total', `target="${mode}",source="stats",reason="${reason}"`) ?? 0) >= 1, mode)
    assert.equal(metrics.body.includes(`app_cache_hits_total{target="${mode}"`), false, `${mode}: nothing from a bad answer is exposed`)
  }
  assert.equal(before.get('dns/stats')?.lastError?.reason, 'dns')
  assert.equal(before.get('neighbour/stats')?.health, 'up')
  assert.ok((sampleValue(metrics.body, 'app_cache_hits_total', 'target="neighbour",cache="items"') ?? 0) >= 100, 'the healthy neighbour is exposed')

  // Memory stays bounded: the 50 MB answer was cut soon after the body limit, never buffered.
  const huge = servers.get('huge-body') as FaultServer
  assert.ok(huge.hugeCutEarly >= 1, 'the agent closed the connection before the end of the 50 MB body')
  assert.ok(huge.hugeBytesWritten / huge.requests < HUGE_BODY_BYTES / 5,
    `the server got to write ${huge.hugeBytesWritten} bytes over ${huge.requests} requests, against a ${BODY_LIMIT_BYTES}-byte limit`)

  // Recovery: the faults clear; the scheduler's own runs (no collectNow) bring every source back.
  // A run already in flight when the fault cleared may still fail; the next one must not.
  const errorsAtClear = new Map([...(await sources())].map(([id, source]) => [id, totalErrors(source.errorsByReason)]))
  await Promise.all([...servers.values()].map((server) => server.setMode('healthy')))
  const recovered = await waitUntil(async () => {
    const now = await sources()
    return FAULTS.every(([mode]) => now.get(`${mode}/stats`)?.health === 'up') ? now : undefined
  }, { what: 'every faulty source to recover', timeoutMs: 30_000 })
  for (const [mode] of FAULTS) {
    const id = `${mode}/stats`
    const extra = totalErrors(recovered.get(id)?.errorsByReason ?? {}) - (errorsAtClear.get(id) ?? 0)
    assert.ok(extra <= 1, `${mode}: ${extra} failed runs after the fault cleared; at most the one in flight may fail`)
  }
  const after = await get('/metrics')
  for (const [mode] of FAULTS) {
    assert.ok((sampleValue(after.body, 'app_cache_hits_total', `target="${mode}",cache="items"`) ?? -1) >= 100, `${mode}: app stats are exposed again`)
  }
})

test('/metrics, /healthz and /api/targets answer while targets hang or trickle mid-run, and /readyz says why it is not ready', { timeout: 60_000 }, async (t) => {
  const hang = await startFaultServer({ mode: 'hang' })
  const trickle = await startFaultServer({ mode: 'trickle' })
  t.after(async () => { await Promise.all([hang.close(), trickle.close()]) })
  // Deadlines far beyond the test's own timeout: if any endpoint waited on a target, the test would time out.
  const yaml = stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '10m', timeout: '9m' },
    targets: [
      { name: 'hang', stats: { url: `${hang.url}/stats` }, probes: [{ name: 'health', http: { url: `${hang.url}/health` } }] },
      { name: 'trickle', stats: { url: `${trickle.url}/stats` } }
    ]
  })
  const { agent, get } = await startInProcessAgent(t, yaml)
  const runs = agent.collectNow()
  await hang.waitForHeld(2)
  await trickle.waitForHeld(1)

  const metrics = await get('/metrics')
  assert.equal(metrics.status, 200)
  assert.match(metrics.body, /^outrigger_build_info\{/m)
  assert.match(metrics.body, /^outrigger_source_runs_total\{target="hang",source="stats"\} 0$/m, 'the hung run has not finished')
  assert.equal((await get('/healthz')).status, 200)
  const targets = await get('/api/targets')
  assert.equal(targets.status, 200)
  assert.match(targets.body, /"health":"pending"/)
  const ready = await get('/readyz')
  assert.equal(ready.status, 503)
  assert.match(ready.body, /first collection is still running/)
  assert.equal(hang.held, 2, 'the hung requests were still open while every endpoint answered')

  // Closing the agent aborts the hung runs instead of waiting out their deadlines.
  await agent.close()
  await runs
  await waitUntil(() => hang.held === 0 && trickle.held === 0, { what: 'the hung connections to be closed by the agent', timeoutMs: 10_000 })
})

/** A healthy fault server closed after the test. */
async function healthy (t: { after: (fn: () => Promise<void>) => void }): Promise<FaultServer> {
  const server = await startFaultServer()
  t.after(() => server.close())
  return server
}

function totalErrors (byReason: Record<string, number>): number {
  return Object.values(byReason).reduce((sum, count) => sum + count, 0)
}
