/**
 * The demo app under load when things break: Postgres going away mid-load, and SIGTERM with
 * requests in flight. Real sockets, many concurrent clients, every answer checked.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { startPostgres } from '../support/postgres.ts'
import { waitUntil } from '../support/wait.ts'
import { startTestApp } from '../demo-app/test-app.ts'

const ROOT = resolve(import.meta.dirname, '../..')

interface Answer { kind: 'cached' | 'uncached' | 'health', status: number, code: string | undefined, message: string | undefined, phase: string }

test('Postgres stopped under load: uncached reads 503 with the reason, cached reads keep being served, no 500, no unhandled rejection, recovery without a restart', { timeout: 120_000 }, async (t) => {
  const rejections: unknown[] = []
  const onRejection = (reason: unknown): void => { rejections.push(reason) }
  process.on('unhandledRejection', onRejection)
  t.after(() => { process.off('unhandledRejection', onRejection) })

  const db = await startPostgres({ dedicated: true })
  t.after(() => db.close())
  const { app } = await startTestApp(t, { pg: db, env: { DB_ACQUIRE_TIMEOUT_MS: '1000', DB_HEALTH_TIMEOUT_MS: '1000', DB_POOL_MAX: '4' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const CACHED = [1, 2, 3, 4, 5]
  for (const id of CACHED) assert.equal((await fetch(`${base}/api/items/${id}`)).status, 200)

  let phase = 'before'
  let stopped = false
  const answers: Answer[] = []
  const worker = async (index: number): Promise<void> => {
    for (let i = 0; !stopped; i++) {
      const kind = (['cached', 'uncached', 'cached', 'health'] as const)[(index + i) % 4] as Answer['kind']
      const path = kind === 'cached' ? `/api/items/${CACHED[i % CACHED.length]}` : kind === 'uncached' ? `/api/items?offset=${i % 40}&limit=2` : '/health'
      const at = phase
      try {
        const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(20_000) })
        const body = await response.json() as { code?: string, message?: string, reason?: string }
        answers.push({ kind, status: response.status, code: body.code, message: body.message ?? body.reason, phase: at })
      } catch (error) {
        answers.push({ kind, status: 0, code: undefined, message: (error as Error).message, phase: at })
      }
    }
  }
  const workers = Array.from({ length: 16 }, (_, index) => worker(index))
  await waitUntil(() => answers.length >= 200, { what: '200 answers under load before the outage' })

  await db.stop()
  phase = 'outage'
  const outageStart = answers.length
  await waitUntil(() => answers.slice(outageStart).filter((a) => a.kind === 'uncached' && a.status === 503 && a.phase === 'outage').length >= 10 &&
    answers.slice(outageStart).filter((a) => a.kind === 'cached' && a.status === 200 && a.phase === 'outage').length >= 100,
  { what: '503s for uncached reads and 200s for cached ones during the outage', timeoutMs: 60_000 })

  await db.start()
  phase = 'recovering'
  await waitUntil(() => answers.filter((a) => a.phase === 'recovering' && a.kind === 'uncached' && a.status === 200).length >= 10 &&
    answers.filter((a) => a.phase === 'recovering' && a.kind === 'health' && a.status === 200).length >= 1,
  { what: 'uncached reads and /health to recover', timeoutMs: 60_000 })
  phase = 'after'
  const afterStart = answers.length
  await waitUntil(() => answers.length >= afterStart + 100, { what: '100 more answers after recovery' })
  stopped = true
  await Promise.all(workers)

  const outage = answers.filter((a) => a.phase === 'outage')
  assert.deepEqual(answers.filter((a) => a.status !== 200 && a.status !== 503).slice(0, 3), [], 'every answer is a 200 or a 503: no 500, no dropped connection')
  assert.deepEqual(outage.filter((a) => a.kind === 'cached' && a.status !== 200).slice(0, 3), [], 'cached reads are served throughout the outage')
  for (const answer of outage.filter((a) => a.status === 503)) {
    assert.match(answer.code ?? '', /^DEMO_ERR_DB_(UNAVAILABLE|ACQUIRE_TIMEOUT|TIMEOUT)$/, JSON.stringify(answer))
    assert.ok((answer.message ?? '').length > 0, `the 503 gives the reason: ${JSON.stringify(answer)}`)
  }
  assert.ok(outage.some((a) => a.kind === 'health' && a.status === 503), '/health reports the outage')
  assert.deepEqual(answers.filter((a) => a.phase === 'after' && a.status !== 200).slice(0, 3), [], 'after recovery everything is served again')
  assert.deepEqual(rejections, [], 'no unhandled rejection')
})

test('SIGTERM under load: requests in flight finish, new ones are refused, the process exits 0 within its deadline', { timeout: 120_000 }, async (t) => {
  const pg = await startPostgres()
  t.after(() => pg.close())
  // An upstream that holds every request until the test lets go, so requests are surely in flight.
  const held: ServerResponse[] = []
  const upstream = createServer((_req, res) => { held.push(res) })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.after(() => { upstream.closeAllConnections(); upstream.close() })

  const child = spawn(process.execPath, ['demo-app/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: pg.url, SEED_ROWS: '50', SHUTDOWN_TIMEOUT_MS: '20000', UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const messages: Array<{ msg?: string, url?: string }> = []
  let buffered = ''
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) messages.push(JSON.parse(line) as { msg?: string })
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const url = await waitUntil(() => messages.find((m) => m.msg === 'demo app listening')?.url, { what: 'the demo app to listen', details: () => stderr })

  // Load: 20 requests parked at the upstream, and 20 clients reading items in a loop.
  const parked = Array.from({ length: 20 }, () => fetch(`${url}/api/upstream/quote`).then(async (r) => ({ status: r.status, body: await r.text() }), (e: Error) => ({ status: 0, body: e.message })))
  await waitUntil(() => held.length === 20, { what: '20 requests to reach the upstream' })
  let signalled = false
  const afterSignal: number[] = []
  let beforeSignal = 0
  const racedSignal: number[] = []
  const readers = Array.from({ length: 20 }, async (_, index) => {
    for (let i = 0; ; i++) {
      const sentAfterSignal = signalled
      let status: number
      try {
        const response = await fetch(`${url}/api/items/${(index * 7 + i) % 50 + 1}`, { headers: { connection: 'close' } })
        await response.body?.cancel()
        status = response.status
      } catch {
        status = 0 // refused: the listener is closed
      }
      if (sentAfterSignal) {
        afterSignal.push(status)
        if (status === 0) return
      } else if (status === 200) {
        beforeSignal++
      } else {
        // Sent just before the signal but arrived after it: a new request to a closing server.
        racedSignal.push(status)
      }
    }
  })
  await waitUntil(() => beforeSignal >= 100, { what: '100 reads before the signal' })

  signalled = true
  child.kill('SIGTERM')
  await waitUntil(() => messages.some((m) => m.msg === 'shutting down'), { what: 'the app to start shutting down' })
  // New requests are refused (503 while closing, or the connection refused once the listener is gone).
  await waitUntil(() => afterSignal.filter((status) => status === 0 || status === 503).length >= 20, { what: 'new requests to be refused' })
  assert.equal(child.exitCode, null, 'the app waits for the requests in flight')
  for (const res of held) res.writeHead(200, { 'content-type': 'application/json' }).end('{"quote":42}')
  const finished = await Promise.all(parked)
  assert.deepEqual(finished.map((r) => r.status), finished.map(() => 200), 'every request in flight at SIGTERM finished with its answer')
  assert.equal(await exited, 0, stderr)
  await Promise.all(readers)
  assert.ok(afterSignal.every((status) => status === 200 || status === 503 || status === 0), `after the signal: ${afterSignal.join(',')}`)
  assert.ok(racedSignal.every((status) => status === 503 || status === 0) && racedSignal.length <= 20, `around the signal: ${racedSignal.join(',')}`)
  assert.ok(messages.some((m) => m.msg === 'shut down cleanly'))
})
