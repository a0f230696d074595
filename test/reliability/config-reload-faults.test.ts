/**
 * The config file going bad under a running agent: deleted, invalid, not YAML, oversized, or a
 * folder. Each reload is refused, the running config keeps probing, and
 * `outrigger_config_last_reload_successful` says 0 until a good file is back.
 */
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startFaultServer } from '../support/fault-server.ts'
import { sampleValue, startInProcessAgent } from './in-process-agent.ts'

test('a config file deleted or made invalid before a reload: refused, the old config keeps running, the gauge says 0 until a good file returns', async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  const good = stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '1m', timeout: '5s' },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` }, probes: [{ name: 'port', tcp: { address: app.address } }] }]
  })
  const { agent, configPath, get, logs } = await startInProcessAgent(t, good)
  await agent.collectNow()

  const reload = async (): Promise<{ status: number, body: string }> => {
    const response = await fetch(`${agent.url}/-/reload`, { method: 'POST' })
    return { status: response.status, body: await response.text() }
  }
  const badFiles: Array<[string, () => Promise<void>]> = [
    ['deleted', () => rm(configPath)],
    ['invalid', () => writeFile(configPath, 'targets:\n  - name: app\n    stats: { url: not-a-url }\n')],
    ['not YAML', () => writeFile(configPath, 'targets: [unclosed\n')],
    ['empty', () => writeFile(configPath, '')],
    ['oversized', () => writeFile(configPath, `# ${'x'.repeat(5 * 1024 * 1024)}\n${good}`)],
    ['a folder', () => mkdir(configPath).then(() => {})]
  ]
  for (const [what, breakFile] of badFiles) {
    await breakFile()
    const refused = await reload()
    assert.equal(refused.status, 500, what)
    assert.match(refused.body, /refused; the running configuration stays/, what)
    const runsBefore = sampleValue((await get('/metrics')).body, 'outrigger_source_runs_total', 'target="app",source="stats"') ?? 0
    await agent.collectNow()
    const metrics = (await get('/metrics')).body
    assert.equal(sampleValue(metrics, 'outrigger_config_last_reload_successful', ''), undefined, 'the gauge has no labels')
    assert.match(metrics, /^outrigger_config_last_reload_successful 0$/m, what)
    assert.ok((sampleValue(metrics, 'outrigger_source_runs_total', 'target="app",source="stats"') ?? 0) >= runsBefore + 1, `${what}: the old config keeps running`)
    assert.equal(sampleValue(metrics, 'probe_success', 'target="app",probe="port"'), 1, what)
    await rm(configPath, { recursive: true, force: true })
  }
  assert.equal(logs.filter((line) => line.includes('configuration reload refused')).length, badFiles.length, 'one log line per refused reload')

  await writeFile(configPath, good)
  const applied = await reload()
  assert.equal(applied.status, 200)
  assert.match((await get('/metrics')).body, /^outrigger_config_last_reload_successful 1$/m)
})

test('concurrent reloads are one reload', async (t) => {
  const app = await startFaultServer()
  t.after(() => app.close())
  const { agent, logs } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    targets: [{ name: 'app', stats: { url: `${app.url}/stats` } }]
  }))
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${agent.url}/-/reload`, { method: 'POST' })))
  assert.deepEqual(answers.map((answer) => answer.status), answers.map(() => 200))
  const reloads = logs.filter((line) => line.includes('"configuration reloaded"')).length
  assert.ok(reloads >= 1 && reloads < 20, `${reloads} reloads for 20 concurrent requests`)
})
