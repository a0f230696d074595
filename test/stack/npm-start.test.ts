/**
 * README's first command: `npm start` brings up the upstream, the demo app on the embedded database
 * and the agent watching it, prints where to look, and stops everything on Ctrl-C.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { freePort } from '../support/postgres.ts'
import { startChild } from '../support/stack.ts'
import { waitUntil } from '../support/wait.ts'

test('npm start: the demo app is observed within seconds, and Ctrl-C stops every part', async (t) => {
  const [appPort, upstreamPort, agentPort] = [await freePort(), await freePort(), await freePort()]
  const env = { PORT: String(appPort), UPSTREAM_PORT: String(upstreamPort), OUTRIGGER_LISTEN: `127.0.0.1:${agentPort}`, DATABASE_URL: '', LOG_LEVEL: 'info' }
  const start = startChild('start', process.execPath, ['scripts/start.ts'], env, { processGroup: true })
  t.after(() => start.stop())
  await waitUntil(() => start.output.join('').includes('Outrigger is watching the demo app.'), {
    what: 'npm start to print its URLs',
    timeoutMs: 90_000,
    details: () => start.output.join('').slice(-3000)
  })
  const printed = start.output.join('')
  assert.match(printed, new RegExp(`http://127\\.0\\.0\\.1:${agentPort}/metrics`))
  assert.match(printed, new RegExp(`http://127\\.0\\.0\\.1:${appPort}/health`))
  assert.match(printed, /embedded Postgres \(PGlite\)/)
  const metrics = await waitUntil(async () => {
    const body = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text()
    const healthy = ['health', 'port', 'db'].every((probe) => body.includes(`probe_success{target="demo-app",probe="${probe}"} 1`))
    return healthy && body.includes('app_process_resident_memory_bytes{target="demo-app"}') ? body : undefined
  }, { what: 'every probe of the demo app to pass', timeoutMs: 30_000 })
  assert.match(metrics, /^outrigger_source_up\{target="demo-app",source="stats"\} 1$/m)

  // Ctrl-C in a terminal signals the whole foreground job, not just its first process.
  const exited = once(start.process, 'exit')
  process.kill(-start.process.pid!, 'SIGINT')
  const [code] = await exited
  assert.equal(code, 0)
  const stopped = start.output.join('')
  assert.match(stopped, /demo-app +\| .*shut down cleanly/, 'the demo app finished its graceful shutdown')
  assert.doesNotMatch(stopped, /second signal/, 'one Ctrl-C is one stop request for every part, not two')
  assert.doesNotMatch(stopped, /unknown variable/, 'npm start\'s own variables raise no warning in the parts')
  for (const port of [appPort, upstreamPort, agentPort]) {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), 'every part has stopped listening')
  }
})
