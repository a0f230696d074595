/**
 * The whole system on loopback, as separate processes, for integration tests: Postgres (from the
 * harness), the upstream service, the demo app, the agent watching it, and optionally a real
 * Prometheus (Debian's binary) scraping the agent. Every process is a child on a free port; `close()`
 * stops them all. Without a container runtime this is how the compose stack is exercised.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { freePort, startPostgres, type PostgresHandle } from './postgres.ts'
import { waitUntil } from './wait.ts'

const ROOT = resolve(import.meta.dirname, '../..')

/** A child process with its output kept for failure messages. */
export interface Child {
  readonly process: ChildProcess
  readonly output: string[]
  /** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. Safe to call twice. */
  stop (graceMs?: number): Promise<number | null>
}

/** How {@link startChild} starts the child. */
export interface ChildOptions {
  /**
   * In a process group of its own, as a shell starts a job: `process.kill(-child.process.pid, …)`
   * then signals the whole group, as Ctrl-C in a terminal does. `stop()` still signals the child alone.
   */
  processGroup?: boolean
}

/** Starts `command args` with its output captured; the child dies with the test process. */
export function startChild (name: string, command: string, args: string[], env: Record<string, string | undefined> = {}, options: ChildOptions = {}): Child {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.processGroup === true })
  const output: string[] = []
  const keep = (chunk: Buffer): void => {
    output.push(`[${name}] ${chunk.toString()}`)
    if (output.length > 2000) output.splice(0, 1000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  let stopping: Promise<number | null> | undefined
  return {
    process: child,
    output,
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        try {
          return await exited
        } finally {
          clearTimeout(timer)
        }
      })()
      return stopping
    }
  }
}

/** Resolves once `url` answers with a status below 500, or throws with the child's output. */
export async function waitForHttp (url: string, child: Child | undefined, what: string, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<void> {
  await waitUntil(async () => {
    if (child !== undefined && child.process.exitCode !== null) {
      throw new Error(`${what} exited with ${child.process.exitCode}:\n${child.output.join('').slice(-4000)}`)
    }
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) })
      await response.body?.cancel()
      return response.status < 500
    } catch {
      return false
    }
  }, { timeoutMs, what: `${what} to answer at ${url}`, details: () => child?.output.join('').slice(-4000) ?? '' })
}

export interface StackOptions {
  /** Start a Prometheus scraping the agent; its config comes from `prometheusConfig`. Default false. */
  prometheus?: boolean
  /**
   * The Prometheus configuration as an object, given the agent's and app's `host:port`. Default: one
   * job `outrigger` scraping the agent every second.
   */
  prometheusConfig?: (addresses: { agent: string, app: string }) => Record<string, unknown>
  /** Extra Prometheus flags, e.g. `--enable-feature=exemplar-storage`. */
  prometheusFlags?: string[]
  /** Environment for the demo app (on top of PORT, DATABASE_URL, UPSTREAM_URL, SEED_ROWS=200). */
  demoEnv?: Record<string, string>
  /** Agent config given the addresses; default watches the demo app every second with every source kind. */
  agentConfig?: (addresses: StackAddresses) => string
  /** Environment for the agent. */
  agentEnv?: Record<string, string>
}

export interface StackAddresses {
  appUrl: string
  appPort: number
  upstreamUrl: string
  postgresUrl: string
  agentListen: string
}

export interface Stack extends StackAddresses {
  postgres: PostgresHandle
  agentUrl: string
  prometheusUrl: string | undefined
  app: Child
  agent: Child
  /** The demo app's current pid. */
  appPid (): number
  /** Stops the demo app (SIGTERM, waits for exit). */
  stopApp (): Promise<void>
  /** Starts the demo app again on the same port and waits until it answers. */
  startApp (): Promise<void>
  /** Runs an instant PromQL query; resolves with the result vector. */
  query (expr: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  close (): Promise<void>
}

/** The default agent config: every source kind against the demo app, every second. */
export function defaultAgentConfig (addresses: StackAddresses): string {
  return stringify({
    server: { listen: addresses.agentListen },
    defaults: { interval: '1s', timeout: '800ms' },
    targets: [{
      name: 'demo-app',
      stats: { url: `${addresses.appUrl}/api/performance/metrics` },
      probes: [
        { name: 'health', http: { url: `${addresses.appUrl}/health`, expectStatus: [200] } },
        { name: 'port', tcp: { address: `127.0.0.1:${addresses.appPort}` } },
        { name: 'db', postgres: { url: addresses.postgresUrl } }
      ],
      process: { port: addresses.appPort }
    }]
  })
}

/** Starts the stack; every part is stopped by `close()` even when a later part fails to start. */
export async function startStack (options: StackOptions = {}): Promise<Stack> {
  const cleanups: Array<() => Promise<unknown>> = []
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch(() => {})
    }
    cleanups.length = 0
  }
  try {
    const postgres = await startPostgres()
    cleanups.push(() => postgres.close())
    const dir = await mkdtemp(join(tmpdir(), 'outrigger-stack-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))

    const upstreamPort = await freePort()
    const upstream = startChild('upstream', process.execPath, ['demo-app/upstream/main.ts'], { PORT: String(upstreamPort), HOST: '127.0.0.1' })
    cleanups.push(() => upstream.stop())
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`

    const appPort = await freePort()
    const appUrl = `http://127.0.0.1:${appPort}`
    const appEnv = {
      PORT: String(appPort),
      HOST: '127.0.0.1',
      DATABASE_URL: postgres.url,
      UPSTREAM_URL: upstreamUrl,
      SEED_ROWS: '200',
      LOG_LEVEL: 'warn',
      ...options.demoEnv
    }
    let app = startChild('demo-app', process.execPath, ['demo-app/main.ts'], appEnv)
    cleanups.push(() => app.stop())
    await waitForHttp(`${upstreamUrl}/`, upstream, 'the upstream')
    await waitForHttp(`${appUrl}/health`, app, 'the demo app', 60_000)

    const agentPort = await freePort()
    const addresses: StackAddresses = { appUrl, appPort, upstreamUrl, postgresUrl: postgres.url, agentListen: `127.0.0.1:${agentPort}` }
    const configPath = join(dir, 'outrigger.yaml')
    await writeFile(configPath, (options.agentConfig ?? defaultAgentConfig)(addresses))
    const agent = startChild('agent', process.execPath, ['agent/bin/outrigger.ts', '--config', configPath], { OUTRIGGER_LOG_LEVEL: 'warn', ...options.agentEnv })
    cleanups.push(() => agent.stop())
    const agentUrl = `http://127.0.0.1:${agentPort}`
    await waitForHttp(`${agentUrl}/healthz`, agent, 'the agent')

    let prometheusUrl: string | undefined
    if (options.prometheus === true) {
      const promConfig = (options.prometheusConfig ?? defaultPrometheusConfig)({ agent: `127.0.0.1:${agentPort}`, app: `127.0.0.1:${appPort}` })
      const prometheus = await startPrometheus({ dir, config: promConfig, flags: options.prometheusFlags ?? [] })
      cleanups.push(() => prometheus.stop())
      prometheusUrl = prometheus.url
    }

    return {
      ...addresses,
      postgres,
      agentUrl,
      prometheusUrl,
      get app () { return app },
      agent,
      appPid: () => app.process.pid as number,
      stopApp: async () => { await app.stop() },
      startApp: async () => {
        app = startChild('demo-app', process.execPath, ['demo-app/main.ts'], appEnv)
        cleanups.push(() => app.stop())
        await waitForHttp(`${appUrl}/health`, app, 'the demo app', 60_000)
      },
      query: async (expr) => {
        if (prometheusUrl === undefined) throw new Error('the stack was started without Prometheus')
        return await queryPrometheus(prometheusUrl, expr)
      },
      close
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** A Prometheus started by {@link startPrometheus}. */
export interface RunningPrometheus {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string
  child: Child
  /** Runs an instant PromQL query; resolves with the result vector. */
  query (expr: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>>
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`); safe to call twice. */
  stop (graceMs?: number): Promise<number | null>
}

/**
 * Starts Debian's `prometheus` on a free loopback port with `config` (written to `dir`, with its
 * TSDB under `dir`) and waits until it is ready.
 */
export async function startPrometheus (options: { dir: string, config: Record<string, unknown>, flags?: string[] }): Promise<RunningPrometheus> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const configPath = join(options.dir, 'prometheus.yml')
  await writeFile(configPath, stringify(options.config))
  const child = startChild('prometheus', 'prometheus', [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(options.dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    ...(options.flags ?? [])
  ])
  try {
    await waitForHttp(`${url}/-/ready`, child, 'Prometheus')
  } catch (error) {
    await child.stop()
    throw error
  }
  return { url, child, query: (expr) => queryPrometheus(url, expr), stop: (graceMs) => child.stop(graceMs) }
}

/** An instant PromQL query against the Prometheus at `url`; throws with Prometheus's error. */
export async function queryPrometheus (url: string, expr: string): Promise<Array<{ metric: Record<string, string>, value: [number, string] }>> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = await response.json() as { status: string, error?: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? response.status}`)
  return body.data.result
}

function defaultPrometheusConfig (addresses: { agent: string }): Record<string, unknown> {
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ job_name: 'outrigger', static_configs: [{ targets: [addresses.agent] }] }]
  }
}
