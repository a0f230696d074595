/**
 * `node --test --test-global-setup`: one Postgres server for the whole run. Every test file
 * reaches it through `OUTRIGGER_TEST_DATABASE_URL` and creates a database of its own, so files
 * run in parallel without sharing tables. An explicit `OUTRIGGER_TEST_DATABASE_URL` is used as is.
 */
import { startServer, type PostgresServer } from './postgres.ts'

let server: PostgresServer | undefined

export async function globalSetup (): Promise<void> {
  if (process.env.OUTRIGGER_TEST_DATABASE_URL !== undefined && process.env.OUTRIGGER_TEST_DATABASE_URL !== '') {
    return
  }
  server = await startServer({}, (line) => process.stderr.write(`[postgres] ${line}\n`))
  const url = new URL(`postgres://${server.host}:${server.port}/${server.adminDatabase}`)
  url.username = server.user
  url.password = server.password
  process.env.OUTRIGGER_TEST_DATABASE_URL = url.href
}

export async function globalTeardown (): Promise<void> {
  await server?.close()
}
