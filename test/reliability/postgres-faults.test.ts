/**
 * The agent watching Postgres when it misbehaves: a wrong password, a missing database, a query
 * slower than the deadline, nothing listening. Each probe is down with its own reason while the
 * others carry on and `/metrics` answers mid-query; once a fault clears, the scheduler's next run
 * brings the probe back. (Stopping and restarting the server is covered at the probe level, in
 * test/agent/postgres-probe.test.ts.)
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import pg from 'pg'
import { stringify } from 'yaml'
import { POSTGRES_PROBE_APPLICATION_NAME } from '../../agent/sources/postgres-probe.ts'
import { freePort, startPostgres } from '../support/postgres.ts'
import { waitUntil } from '../support/wait.ts'
import { sampleValue, startInProcessAgent } from './in-process-agent.ts'

test('Postgres faults: auth, not_found, timeout and refused each down with its reason, the rest unaffected, recovery by the next run', { timeout: 120_000 }, async (t) => {
  const db = await startPostgres()
  const admin = new pg.Client({ connectionString: db.url })
  await admin.connect()
  const suffix = randomBytes(4).toString('hex')
  const role = `probe_${suffix}`
  const missing = `later_${suffix}`
  t.after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${missing} WITH (FORCE)`)
    await admin.query(`DROP OWNED BY ${role}`).catch(() => {})
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
    await db.close()
  })
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'old-password'`)
  await admin.query('CREATE TABLE probe_delay (seconds float8 NOT NULL)')
  await admin.query('INSERT INTO probe_delay VALUES (60)')
  await admin.query(`GRANT SELECT ON probe_delay TO ${role}`)
  const deadPort = await freePort()

  const connection = (overrides: Record<string, unknown>): Record<string, unknown> => ({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, ...overrides })
  const { agent, get, sources } = await startInProcessAgent(t, stringify({
    server: { listen: '127.0.0.1:0' },
    defaults: { interval: '2s', timeout: '1s' },
    targets: [{
      name: 'db',
      probes: [
        { name: 'ok', postgres: connection({}) },
        { name: 'auth', postgres: connection({ user: role, password: 'new-password' }) },
        { name: 'missing', postgres: connection({ database: missing }) },
        { name: 'slow', postgres: connection({ query: 'SELECT pg_sleep(seconds) FROM probe_delay' }) },
        { name: 'down', postgres: connection({ port: deadPort }) }
      ]
    }]
  }))
  const running = agent.collectNow()
  // Mid-run, with a query sleeping on the server, /metrics answers.
  await waitUntil(async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND application_name = $1", [POSTGRES_PROBE_APPLICATION_NAME])).rows[0]?.n === 1,
    { what: 'the slow query to be running' })
  assert.equal((await get('/metrics')).status, 200)
  await running

  const reasons = { auth: 'auth', missing: 'not_found', slow: 'timeout', down: 'refused' } as const
  const before = await sources()
  assert.equal(before.get('db/postgres/ok')?.health, 'up')
  for (const [probe, reason] of Object.entries(reasons)) {
    assert.equal(before.get(`db/postgres/${probe}`)?.lastError?.reason, reason, `${probe}: ${before.get(`db/postgres/${probe}`)?.lastError?.message}`)
  }
  const body = (await get('/metrics')).body
  assert.equal(sampleValue(body, 'probe_success', 'target="db",probe="ok"'), 1)
  for (const probe of Object.keys(reasons)) assert.equal(sampleValue(body, 'probe_success', `target="db",probe="${probe}"`), 0, probe)
  // The timed-out query's session is gone: nothing left sleeping on the server.
  await waitUntil(async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND application_name = $1", [POSTGRES_PROBE_APPLICATION_NAME])).rows[0]?.n === 0,
    { what: 'the timed-out session to end', timeoutMs: 10_000 })

  // The faults clear: the password now matches, the database exists, the query is fast.
  const errorsAtClear = new Map([...(await sources())].map(([id, source]) => [id, Object.values(source.errorsByReason).reduce((a, b) => a + b, 0)]))
  await admin.query(`ALTER ROLE ${role} PASSWORD 'new-password'`)
  await admin.query(`CREATE DATABASE ${missing}`)
  await admin.query('UPDATE probe_delay SET seconds = 0')
  const recovered = await waitUntil(async () => {
    const now = await sources()
    return ['auth', 'missing', 'slow'].every((probe) => now.get(`db/postgres/${probe}`)?.health === 'up') ? now : undefined
  }, { what: 'the cleared probes to recover', timeoutMs: 30_000 })
  for (const probe of ['auth', 'missing', 'slow']) {
    const id = `db/postgres/${probe}`
    const extra = Object.values(recovered.get(id)?.errorsByReason ?? {}).reduce((a, b) => a + b, 0) - (errorsAtClear.get(id) ?? 0)
    assert.ok(extra <= 1, `${probe}: ${extra} failed runs after the fault cleared; at most the one in flight may fail`)
  }
  assert.equal(recovered.get('db/postgres/down')?.health, 'down', 'nothing listens there still')
})
