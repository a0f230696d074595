/**
 * The benchmark's Postgres: a dedicated server from the test harness with `pg_stat_statements`
 * loaded, so the time the database spends on each statement is measured by the database itself,
 * and one database per demo-app profile, so their statements never mix.
 */
import pg from 'pg'
import { parentPid, treeCpuSeconds } from './process-meter.ts'
import { startPostgres, type DedicatedPostgresHandle } from '../test/support/postgres.ts'

/** Statement figures of one database over a window, from `pg_stat_statements`. */
export interface StatementTotals {
  /** Statements executed. */
  calls: number
  /** Time spent executing them inside the server, in ms. */
  totalExecMs: number
}

/** A running benchmark database server. */
export interface BenchPostgres {
  /** Which way the harness obtained the server (`local`, `testcontainers`, …). */
  readonly backend: string
  /** Whether `pg_stat_statements` could be loaded; without it DB time is not measured. */
  readonly statementsTracked: boolean
  /** A connection URL for `database` on this server (created on first use). */
  databaseUrl (database: string): Promise<string>
  /** Forgets every statement counted so far. */
  resetStatements (): Promise<void>
  /** Statements counted in `database` since the last reset; `undefined` without `pg_stat_statements`. */
  statementTotals (database: string): Promise<StatementTotals | undefined>
  /**
   * CPU seconds the server (postmaster and backends) has used so far; `undefined` where its
   * processes cannot be seen (a container, PGlite).
   */
  serverCpuSeconds (): number | undefined
  close (): Promise<void>
}

/**
 * Starts the server, turns on `pg_stat_statements` (a restart, since it must be preloaded), and
 * keeps one admin connection for the statistics queries.
 */
export async function startBenchPostgres (log: (line: string) => void): Promise<BenchPostgres> {
  const handle: DedicatedPostgresHandle = await startPostgres({ dedicated: true, log: (line) => { log(`postgres: ${line}`) } })
  let admin: pg.Client | undefined
  try {
    const statementsTracked = await enableStatementStats(handle, log)
    admin = new pg.Client({ connectionString: handle.url })
    await admin.connect()
    if (statementsTracked) await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
    const client = admin
    const created = new Set<string>()
    const postmaster = await findPostmaster(client, handle.backend)
    return {
      backend: handle.backend,
      statementsTracked,
      async databaseUrl (database) {
        if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bad database name ${JSON.stringify(database)}`)
        if (!created.has(database)) {
          const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
          if (rowCount === 0) await client.query(`CREATE DATABASE ${database}`)
          created.add(database)
        }
        const url = new URL(handle.url)
        url.pathname = `/${database}`
        return url.href
      },
      async resetStatements () {
        if (statementsTracked) await client.query('SELECT pg_stat_statements_reset()')
      },
      async statementTotals (database) {
        if (!statementsTracked) return undefined
        const { rows } = await client.query<{ calls: string | null, total: number | null }>(
          `SELECT sum(s.calls) AS calls, sum(s.total_exec_time) AS total
           FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
           WHERE d.datname = $1`, [database])
        return { calls: Number(rows[0]?.calls ?? 0), totalExecMs: Number(rows[0]?.total ?? 0) }
      },
      serverCpuSeconds () {
        return postmaster === undefined ? undefined : treeCpuSeconds(postmaster)
      },
      async close () {
        await client.end().catch(() => {})
        await handle.close()
      }
    }
  } catch (error) {
    await admin?.end().catch(() => {})
    await handle.close()
    throw error
  }
}

/** The postmaster's pid: the parent of this connection's backend, if that process is on this machine. */
async function findPostmaster (client: pg.Client, backend: string): Promise<number | undefined> {
  if (backend !== 'local') return undefined
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  const pid = rows[0]?.pid
  try {
    return pid === undefined ? undefined : parentPid(pid)
  } catch {
    return undefined
  }
}

/** Preloads `pg_stat_statements` (ALTER SYSTEM + restart). Returns false where the server cannot. */
async function enableStatementStats (handle: DedicatedPostgresHandle, log: (line: string) => void): Promise<boolean> {
  if (handle.backend === 'pglite') {
    log('postgres: PGlite cannot preload pg_stat_statements; DB statement time will not be measured')
    return false
  }
  const client = new pg.Client({ connectionString: handle.url })
  await client.connect()
  try {
    const { rows } = await client.query<{ available: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available")
    if (rows[0]?.available !== true) {
      log('postgres: pg_stat_statements is not available; DB statement time will not be measured')
      return false
    }
    await client.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
  } finally {
    await client.end()
  }
  await handle.stop()
  await handle.start()
  return true
}
