import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PostgresProbe, POSTGRES_PROBE_APPLICATION_NAME } from '../../agent/sources/postgres-probe.ts'
import type { PostgresProbeOptions } from '../../agent/sources/postgres-probe.ts'
import { assertFailure, assertSuccess, deadline, sampleValue as value } from '../support/collect-assertions.ts'
import { startPostgres } from '../support/postgres.ts'
import type { PostgresHandle } from '../support/postgres.ts'
import { waitUntil } from '../support/wait.ts'

async function database (t: TestContext): Promise<PostgresHandle> {
  const db = await startPostgres()
  t.after(() => db.close())
  return db
}

/**
 * A database, an admin session on it, and `defer` for cleanups that need that session. node:test
 * runs `after` hooks in the order they were added, so one hook unwinds everything last-in first-out:
 * deferred cleanups, then the session, then the database.
 */
async function withAdmin (t: TestContext): Promise<{ db: PostgresHandle, sql: pg.Client, defer: (cleanup: () => Promise<unknown>) => void }> {
  const db = await startPostgres()
  const sql = new pg.Client({ connectionString: db.url })
  const cleanups: Array<() => Promise<unknown>> = [() => db.close(), () => sql.end()]
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })
  await sql.connect()
  return { db, sql, defer: (cleanup) => { cleanups.push(cleanup) } }
}

function probe (db: PostgresHandle, extra: Partial<PostgresProbeOptions> = {}, connection: Partial<PostgresProbeOptions['connection']> = {}): PostgresProbe {
  return new PostgresProbe({
    target: 'orders',
    name: 'primary',
    connection: { host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, ...connection },
    intervalSeconds: 10,
    timeoutSeconds: 5,
    ...extra
  })
}

const unique = (): string => randomBytes(4).toString('hex')

test('a reachable server succeeds with connect and query phases, labelled from config', async (t) => {
  const db = await database(t)
  const instance = probe(db)
  assert.equal(instance.id, 'orders/postgres/primary')
  const result = await instance.collect(deadline())
  assertSuccess(result)
  for (const phase of ['connect', 'query']) {
    const seconds = value(result, 'probe_postgres_duration_seconds', { phase })
    assert.ok(seconds !== undefined && seconds >= 0, `${phase} = ${seconds}`)
  }
  assert.ok((value(result, 'probe_postgres_server_version_num') ?? 0) >= 90600)
  for (const family of result.families) {
    for (const sample of family.samples) assert.deepEqual({ target: sample.labels.target, probe: sample.labels.probe }, { target: 'orders', probe: 'primary' })
  }
  await instance.close()
  await instance.close()
})

test('a wrong password fails with auth and never shows the password, then the right one succeeds', async (t) => {
  const { db, sql, defer } = await withAdmin(t)
  const role = `probe_${unique()}`
  await sql.query(`CREATE ROLE ${role} LOGIN PASSWORD 'the-right-one'`)
  defer(() => sql.query(`DROP ROLE IF EXISTS ${role}`))
  const secret = `Wr0ng-${unique()}`
  const instance = probe(db, {}, { user: role, password: secret })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'auth')
  assert.ok(!(failed.failure?.message ?? '').includes(secret), failed.failure?.message)
  assert.match(failed.failure?.message ?? '', new RegExp(role))

  // The password is scrubbed even when the server quotes it (here, as the user name).
  const quoted = await probe(db, {}, { user: role, password: role }).collect(deadline())
  assertFailure(quoted, 'auth')
  assert.ok(!(quoted.failure?.message ?? '').includes(role), quoted.failure?.message)
  assert.match(quoted.failure?.message ?? '', /\[redacted\]/)

  await sql.query(`ALTER ROLE ${role} PASSWORD '${secret}'`)
  assertSuccess(await instance.collect(deadline()))
})

test('a missing database fails with not_found, then succeeds once it exists', async (t) => {
  const { db, sql, defer } = await withAdmin(t)
  const name = `probe_missing_${unique()}`
  defer(() => sql.query(`DROP DATABASE IF EXISTS ${name}`))
  const instance = probe(db, {}, { database: name })
  assertFailure(await instance.collect(deadline()), 'not_found')
  await sql.query(`CREATE DATABASE ${name}`)
  assertSuccess(await instance.collect(deadline()))
})

test('a query slower than the deadline fails with timeout and its session is closed, then a fast one succeeds', async (t) => {
  const { db, sql } = await withAdmin(t)
  await sql.query('CREATE TABLE probe_delay (seconds float8 NOT NULL)')
  await sql.query('INSERT INTO probe_delay VALUES (5)')
  const instance = probe(db, { timeoutSeconds: 1, query: 'SELECT pg_sleep(seconds) FROM probe_delay' })
  const failed = await instance.collect(AbortSignal.timeout(1000))
  assertFailure(failed, 'timeout')
  assert.match(failed.failure?.message ?? '', /query/)
  // The probe's session ends: nothing is left running pg_sleep on the server.
  await waitUntil(async () => {
    const { rows } = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [db.database, POSTGRES_PROBE_APPLICATION_NAME]
    )
    return rows[0]?.n === 0
  }, { what: 'the probe session to end on the server', timeoutMs: 10_000 })
  await sql.query('UPDATE probe_delay SET seconds = 0')
  assertSuccess(await instance.collect(deadline()))
})

test('a query error fails with query', async (t) => {
  const { db, sql } = await withAdmin(t)
  const instance = probe(db, { query: 'SELECT count(*) FROM probe_table' })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'query')
  assert.match(failed.failure?.message ?? '', /probe_table/)
  await sql.query('CREATE TABLE probe_table (id int)')
  assertSuccess(await instance.collect(deadline()))
})

test('a stopped server fails with refused, then succeeds once it is started again', async (t) => {
  const db = await startPostgres({ dedicated: true })
  t.after(() => db.close())
  const instance = probe(db)
  assertSuccess(await instance.collect(deadline()))
  await db.stop()
  assertFailure(await instance.collect(deadline()), 'refused')
  await db.start()
  assertSuccess(await instance.collect(deadline()))
})
