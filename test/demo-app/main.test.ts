import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { test, type TestContext } from 'node:test'
import { startPostgres } from '../support/postgres.ts'
import { waitUntil } from '../support/wait.ts'

const MAIN = fileURLToPath(new URL('../../demo-app/main.ts', import.meta.url))

interface RunningMain {
  child: ChildProcess
  stderr: () => string
  /** Messages logged on stdout so far. */
  messages: string[]
  /** Resolves with the base URL once the app logs that it listens. */
  listening: Promise<string>
  exited: Promise<number | null>
}

function runMain (t: TestContext, env: Record<string, string>): RunningMain {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  const messages: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const listening = new Promise<string>((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      for (const line of buffered.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as { msg?: string, url?: string }
        if (entry.msg !== undefined) messages.push(entry.msg)
        if (entry.msg === 'demo app listening' && entry.url !== undefined) resolve(entry.url)
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1)
    })
    void exited.then((code) => reject(new Error(`demo app exited with ${code} before listening: ${stderr}`)))
  })
  listening.catch(() => {})
  return { child, stderr: () => stderr, messages, listening, exited }
}

/** An upstream stand-in that holds every request until the test answers it. */
async function holdingUpstream (t: TestContext): Promise<{ url: string, held: ServerResponse[] }> {
  const held: ServerResponse[] = []
  const server = createServer((_req, res) => { held.push(res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held }
}

test('a bad environment: one line on stderr, exit code 2, no stack trace', async (t) => {
  const run = runMain(t, { PORT: 'abc', DEMO_PROFILE: 'turbo' })
  assert.equal(await run.exited, 2)
  const lines = run.stderr().trim().split('\n')
  assert.equal(lines.length, 1, run.stderr())
  assert.match(lines[0] ?? '', /DEMO_PROFILE must be one of.*PORT must be a whole number/)
  assert.ok(!run.stderr().includes('    at '), 'no stack trace')
})

test('SIGTERM: in-flight requests finish, the pool closes, the process exits 0 by itself', async (t) => {
  const pg = await startPostgres()
  t.after(() => pg.close())
  const upstream = await holdingUpstream(t)
  const run = runMain(t, { DATABASE_URL: pg.url, UPSTREAM_URL: upstream.url, SEED_ROWS: '20' })
  const url = await run.listening
  assert.equal((await fetch(`${url}/health`)).status, 200)

  const inFlight = fetch(`${url}/api/upstream/quote`)
  await waitUntil(() => upstream.held.length === 1, { what: 'the request to reach the upstream' })
  run.child.kill('SIGTERM')
  await waitUntil(() => run.messages.includes('shutting down'), { what: 'the app to start shutting down' })
  // The app stays up for the request in flight; answer it now.
  upstream.held[0]?.writeHead(200, { 'content-type': 'application/json' }).end('{"quote":1}')
  const res = await inFlight
  assert.equal(res.status, 200)
  assert.deepEqual(((await res.json()) as { upstream: unknown }).upstream, { quote: 1 })
  assert.equal(await run.exited, 0)
})

test('SIGTERM with a request that never ends: exit 1 at the shutdown deadline', async (t) => {
  const pg = await startPostgres()
  t.after(() => pg.close())
  const upstream = await holdingUpstream(t)
  const run = runMain(t, { DATABASE_URL: pg.url, UPSTREAM_URL: upstream.url, SEED_ROWS: '0', SHUTDOWN_TIMEOUT_MS: '300', UPSTREAM_TIMEOUT_MS: '600000' })
  const url = await run.listening
  const stuck = fetch(`${url}/api/upstream/quote`).catch(() => undefined)
  await waitUntil(() => upstream.held.length === 1, { what: 'the request to reach the upstream' })
  run.child.kill('SIGTERM')
  assert.equal(await run.exited, 1)
  await stuck
})

test('without DATABASE_URL it runs on the embedded database', async (t) => {
  const run = runMain(t, { SEED_ROWS: '60', UPSTREAM_URL: 'http://127.0.0.1:9' })
  const url = await run.listening
  const health = await fetch(`${url}/health`)
  assert.equal(health.status, 200)
  // Concurrent requests go through the socket server's connection multiplexer.
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => fetch(i % 2 === 0 ? `${url}/api/items/${i + 1}` : `${url}/api/items?offset=${i}&limit=5`)))
  assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200))
  const list = await (await fetch(`${url}/api/items?limit=1`)).json() as { total: number }
  assert.equal(list.total, 60)
  const created = await fetch(`${url}/api/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'EMB-1', name: 'Embedded', category: 'tools', priceCents: 5 }) })
  assert.equal(created.status, 201)
  run.child.kill('SIGTERM')
  assert.equal(await run.exited, 0)
})
