/**
 * Postgres for tests: `startPostgres()` finds a real server in the order DESIGN.md gives —
 * an explicit URL → testcontainers (when a container runtime answers) → local PostgreSQL server
 * binaries → PGlite over pglite-socket — logs which one it used, and hands each caller a fresh
 * database of its own so test files can run in parallel against one server.
 *
 * A run of `npm test` starts one shared server in test/support/global-setup.ts and passes its
 * admin URL to every test file through `OUTRIGGER_TEST_DATABASE_URL`; a file run on its own
 * starts a server for itself. Tests that must stop and restart the server ask for
 * `{ dedicated: true }` and get a server of their own with `stop()` and `start()`.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readdir, rm, writeFile, access } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/** Which way a server was obtained. */
export type PostgresBackend = 'url' | 'testcontainers' | 'local' | 'pglite'

/** A database of the caller's own on a running server. */
export interface PostgresHandle {
  /** Connection URL of the caller's database, password included. */
  url: string
  host: string
  port: number
  user: string
  password: string
  database: string
  backend: PostgresBackend
  /** Drops the database (shared server) or stops the server (dedicated). Safe to call twice. */
  close (): Promise<void>
}

/** A server of the caller's own, which can be stopped and started again on the same port and data. */
export interface DedicatedPostgresHandle extends PostgresHandle {
  /** Stops the server; clients see connection errors until `start()`. */
  stop (): Promise<void>
  /** Starts the server again after `stop()`. */
  start (): Promise<void>
}

/** A running server as a backend gives it: admin credentials plus lifecycle. */
interface Server {
  backend: PostgresBackend
  host: string
  port: number
  user: string
  password: string
  /** Database to connect to for administration. */
  adminDatabase: string
  stop (): Promise<void>
  start (): Promise<void>
  close (): Promise<void>
}

export interface StartPostgresOptions {
  /** Own server with stop()/start() instead of a database on the shared one. Skips the URL step. */
  dedicated?: boolean
  /** Admin URL of an existing server; default `OUTRIGGER_TEST_DATABASE_URL`. */
  url?: string
  /** Whether a container runtime answers; default asks testcontainers. Injected by tests. */
  detectContainerRuntime?: () => Promise<boolean>
  /** Starts a server in a container; default uses @testcontainers/postgresql. Injected by tests. */
  startContainer?: () => Promise<Server>
  /** Directories to look for initdb/pg_ctl in after PATH; default /usr/lib/postgresql/<newest>/bin. */
  localBinDirs?: string[]
  /** Skip the local-binary step (tests of the PGlite step). */
  skipLocal?: boolean
  /** Where to say which backend was used; default stderr. */
  log?: (line: string) => void
}

export type { Server as PostgresServer }

const IMAGE = 'postgres:16-alpine'

/** Starts (or reuses) a server and returns a fresh database on it. */
export async function startPostgres (options: StartPostgresOptions & { dedicated: true }): Promise<DedicatedPostgresHandle>
export async function startPostgres (options?: StartPostgresOptions): Promise<PostgresHandle>
export async function startPostgres (options: StartPostgresOptions = {}): Promise<PostgresHandle | DedicatedPostgresHandle> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[postgres] ${line}\n`))
  const url = options.dedicated === true ? undefined : (options.url ?? process.env.OUTRIGGER_TEST_DATABASE_URL)
  if (url !== undefined && url !== '') {
    log(`using the server at ${redactUrl(url)} (explicit URL)`)
    return createDatabaseOn(serverFromUrl(url))
  }
  if (options.dedicated !== true) {
    return databaseOnSharedServer(options, log)
  }
  const server = await startServer(options, log)
  {
    return {
      ...connectionOf(server, server.adminDatabase),
      backend: server.backend,
      stop: () => server.stop(),
      start: () => server.start(),
      close: once(() => server.close())
    }
  }
}

/**
 * Without a URL, the callers in one process share one server, started by the first and closed
 * with the last handle, so a test file run on its own still starts Postgres once.
 */
let shared: { server: Promise<Server>, users: number } | undefined

async function databaseOnSharedServer (options: StartPostgresOptions, log: (line: string) => void): Promise<PostgresHandle> {
  shared ??= { server: startServer(options, log), users: 0 }
  const current = shared
  current.users++
  const release = async (): Promise<void> => {
    current.users--
    if (current.users === 0) {
      if (shared === current) {
        shared = undefined
      }
      await (await current.server).close()
    }
  }
  let handle: PostgresHandle
  try {
    handle = await createDatabaseOn(await current.server)
  } catch (error) {
    await release()
    throw error
  }
  return { ...handle, close: once(async () => { await handle.close(); await release() }) }
}

/**
 * Starts a server by the first backend that can, logging which. Exported for the global setup,
 * which shares one server among all test files.
 */
export async function startServer (options: StartPostgresOptions, log: (line: string) => void): Promise<Server> {
  const detect = options.detectContainerRuntime ?? containerRuntimeAnswers
  if (await detect()) {
    log(`starting ${IMAGE} with testcontainers`)
    return (options.startContainer ?? startContainer)()
  }
  if (options.skipLocal !== true) {
    const bin = await findLocalBinaries(options.localBinDirs)
    if (bin !== undefined) {
      log(`no container runtime; starting local PostgreSQL from ${bin}`)
      return startLocal(bin)
    }
  }
  log('no container runtime and no local PostgreSQL binaries; starting PGlite over pglite-socket')
  return startPglite()
}

/** Creates a uniquely named database on `server`; `close()` drops it. */
async function createDatabaseOn (server: Server): Promise<PostgresHandle> {
  const database = `test_${process.pid}_${randomBytes(4).toString('hex')}`
  await withAdmin(server, (client) => client.query(`CREATE DATABASE ${database}`))
  return {
    ...connectionOf(server, database),
    backend: server.backend,
    close: once(() => withAdmin(server, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => {}))
  }
}

function connectionOf (server: Server, database: string): Omit<PostgresHandle, 'close' | 'backend'> {
  const url = new URL(`postgres://${server.host}:${server.port}/${database}`)
  url.username = server.user
  url.password = server.password
  return { url: url.href, host: server.host, port: server.port, user: server.user, password: server.password, database }
}

async function withAdmin<T> (server: Server, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connectionOf(server, server.adminDatabase) })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

function serverFromUrl (href: string): Server {
  const url = new URL(href)
  const noop = async (): Promise<void> => {}
  return {
    backend: 'url',
    host: url.hostname,
    port: Number(url.port === '' ? 5432 : url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    adminDatabase: url.pathname.slice(1) === '' ? 'postgres' : decodeURIComponent(url.pathname.slice(1)),
    stop: noop,
    start: noop,
    close: noop
  }
}

/** Asks testcontainers whether a Docker or Podman runtime answers. */
async function containerRuntimeAnswers (): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers')
  try {
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

async function startContainer (): Promise<Server> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer(IMAGE).start()
  return {
    backend: 'testcontainers',
    host: container.getHost(),
    port: container.getPort(),
    user: container.getUsername(),
    password: container.getPassword(),
    adminDatabase: container.getDatabase(),
    stop: async () => { await container.stop({ remove: false }) },
    start: async () => { await container.restart() },
    close: once(async () => { await container.stop() })
  }
}

/** Finds a directory holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/N/bin. */
export async function findLocalBinaries (extraDirs?: string[]): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '')
  let debianDirs: string[] = []
  try {
    const versions = await readdir('/usr/lib/postgresql')
    debianDirs = versions.sort((a, b) => Number(b) - Number(a)).map((version) => `/usr/lib/postgresql/${version}/bin`)
  } catch {
    // no Debian PostgreSQL packages
  }
  for (const dir of [...pathDirs, ...(extraDirs ?? debianDirs)]) {
    try {
      await access(join(dir, 'initdb'))
      await access(join(dir, 'pg_ctl'))
      return dir
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/**
 * initdb + pg_ctl in a temp dir on a free loopback port. initdb refuses to run as root, so as root
 * the server runs as the `postgres` user.
 */
async function startLocal (bin: string): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-pg-'))
  const data = join(dir, 'data')
  const password = randomBytes(12).toString('hex')
  const port = await freePort()
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    await chmod(dir, 0o777)
  }
  const pwfile = join(dir, 'pwfile')
  await writeFile(pwfile, `${password}\n`, { mode: 0o644 })
  const run = (command: string, args: string[]): Promise<void> => asRoot
    ? exec('runuser', ['-u', 'postgres', '--', join(bin, command), ...args])
    : exec(join(bin, command), args)
  await run('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-sync'])
  const serverOptions = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`
  const start = (): Promise<void> => run('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'])
  const stop = (): Promise<void> => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
  await start()
  let running = true
  return {
    backend: 'local',
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    adminDatabase: 'postgres',
    stop: async () => { await stop(); running = false },
    start: async () => { await start(); running = true },
    close: once(async () => {
      if (running) {
        await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      }
      await rm(dir, { recursive: true, force: true })
    })
  }
}

/** PGlite in this process, served on a loopback port over the Postgres wire protocol. */
async function startPglite (): Promise<Server> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const db = await PGlite.create()
  const port = await freePort()
  let server: InstanceType<typeof PGLiteSocketServer> | undefined
  const start = async (): Promise<void> => {
    server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' })
    await server.start()
  }
  const stop = async (): Promise<void> => {
    await server?.stop()
    server = undefined
  }
  await start()
  return {
    backend: 'pglite',
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'postgres',
    adminDatabase: 'postgres',
    stop,
    start,
    close: once(async () => { await stop(); await db.close() })
  }
}

/** A port free on 127.0.0.1 at the time of asking. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') {
    throw new Error('could not find a free port')
  }
  return address.port
}

function exec (command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) {
        resolve()
      } else {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))
      }
    })
  })
}

function once (fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => {
    done ??= fn()
    return done
  }
}

function redactUrl (href: string): string {
  try {
    const url = new URL(href)
    if (url.password !== '') {
      url.password = '***'
    }
    return url.href
  } catch {
    return '<unparseable URL>'
  }
}
