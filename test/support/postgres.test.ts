import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { findLocalBinaries, startPostgres, startServer, type PostgresServer } from './postgres.ts'

async function queryOne (url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query(sql)
    return result.rows[0] as Record<string, unknown>
  } finally {
    await client.end()
  }
}

test('each caller gets a database of its own on the shared server, dropped on close', async (t) => {
  const lines: string[] = []
  const a = await startPostgres({ log: (line) => lines.push(line) })
  const b = await startPostgres({ log: (line) => lines.push(line) })
  t.after(() => Promise.all([a.close(), b.close()]))
  assert.notEqual(a.database, b.database)
  assert.equal(a.port, b.port)
  assert.equal((await queryOne(a.url, 'SELECT current_database() AS db')).db, a.database)
  await queryOne(a.url, 'CREATE TABLE only_in_a (id int)')
  await assert.rejects(queryOne(b.url, 'SELECT * FROM only_in_a'), /does not exist/)
  assert.equal(a.backend, b.backend)
  assert.ok(lines.length >= 1, 'the log says which backend was used')
  await a.close()
  const left = await queryOne(b.url, `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${a.database}'`)
  assert.equal(left.n, 0)
})

test('a URL given explicitly is used before anything else, and logged without its password', async (t) => {
  const server = await startPostgres({ dedicated: true, log: () => {} })
  const lines: string[] = []
  const handle = await startPostgres({ url: server.url, log: (line) => lines.push(line) })
  t.after(async () => { await handle.close(); await server.close() })
  assert.equal(handle.backend, 'url')
  assert.equal(handle.port, server.port)
  assert.match(lines[0] ?? '', /explicit URL/)
  assert.doesNotMatch(lines.join('\n'), new RegExp(server.password))
})

test('testcontainers is chosen when a container runtime answers', async () => {
  let started = 0
  const fake: PostgresServer = {
    backend: 'testcontainers', host: '127.0.0.1', port: 1, user: 'u', password: 'p', adminDatabase: 'postgres',
    stop: async () => {}, start: async () => {}, close: async () => {}
  }
  const lines: string[] = []
  const server = await startServer({
    detectContainerRuntime: async () => true,
    startContainer: async () => { started++; return fake }
  }, (line) => lines.push(line))
  assert.equal(server, fake)
  assert.equal(started, 1)
  assert.match(lines.join('\n'), /testcontainers/)
})

test('without a container runtime, local server binaries are used when present', async (t) => {
  const bin = await findLocalBinaries()
  assert.ok(bin !== undefined, 'PostgreSQL server binaries must be installed (.ci/run installs them)')
  const lines: string[] = []
  const server = await startPostgres({ dedicated: true, detectContainerRuntime: async () => false, log: (line) => lines.push(line) })
  t.after(() => server.close())
  assert.equal(server.backend, 'local')
  assert.match(lines.join('\n'), new RegExp(`local PostgreSQL from ${bin}`))
  assert.equal((await queryOne(server.url, 'SELECT 1 AS one')).one, 1)
})

test('a dedicated server stops and starts again with its data kept', async (t) => {
  const server = await startPostgres({ dedicated: true, detectContainerRuntime: async () => false, log: () => {} })
  t.after(() => server.close())
  await queryOne(server.url, 'CREATE TABLE kept (id int)')
  await queryOne(server.url, 'INSERT INTO kept VALUES (7)')
  await server.stop()
  await assert.rejects(queryOne(server.url, 'SELECT 1'), /ECONNREFUSED/)
  await server.start()
  assert.equal((await queryOne(server.url, 'SELECT id FROM kept')).id, 7)
})

test('with neither containers nor local binaries, PGlite serves the wire protocol', async (t) => {
  const lines: string[] = []
  const server = await startPostgres({ dedicated: true, detectContainerRuntime: async () => false, skipLocal: true, log: (line) => lines.push(line) })
  t.after(() => server.close())
  assert.equal(server.backend, 'pglite')
  assert.match(lines.join('\n'), /PGlite/)
  assert.equal((await queryOne(server.url, 'SELECT 40 + 2 AS n')).n, 42)
  await server.stop()
  await assert.rejects(queryOne(server.url, 'SELECT 1'), /ECONNREFUSED/)
  await server.start()
  assert.equal((await queryOne(server.url, 'SELECT 1 AS one')).one, 1)
})
