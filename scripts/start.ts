/**
 * `npm start`: the whole local demo on one machine with nothing installed but Node — the upstream
 * service, the demo app on an embedded Postgres (PGlite) unless `DATABASE_URL` is set, and the
 * agent watching the app with examples/outrigger.yaml. Prints where to look, and stops everything
 * on Ctrl-C.
 *
 * Environment: `PORT` (demo app, default 8000), `UPSTREAM_PORT` (default 8081), `OUTRIGGER_LISTEN`
 * (agent, default 127.0.0.1:9465), `DATABASE_URL` (skip the embedded database), `DEMO_PROFILE`,
 * `OUTRIGGER_CONFIG` (another agent config).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../demo-app/embedded-db.ts'

const root = resolve(import.meta.dirname, '..')
const appPort = process.env.PORT ?? '8000'
const upstreamPort = process.env.UPSTREAM_PORT ?? '8081'
const agentListen = process.env.OUTRIGGER_LISTEN ?? '127.0.0.1:9465'
const configPath = process.env.OUTRIGGER_CONFIG ?? resolve(root, 'examples/outrigger.yaml')

interface Part { name: string, child: ChildProcess, output: string[] }
const parts: Part[] = []
let embedded: EmbeddedPostgres | undefined
let stopping = false

/** Starts a part; its log lines at warn and above reach the terminal, prefixed by its name. */
function startPart (name: string, script: string, args: string[], env: Record<string, string>): Part {
  // Each part in a process group of its own: Ctrl-C in a terminal signals the whole foreground
  // group, and a part that got SIGINT from the terminal and SIGTERM from stop() would take the
  // second as "exit now" and skip its graceful shutdown. This process alone hears Ctrl-C and
  // stops each part once.
  const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const part: Part = { name, child, output: [] }
  const show = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue
      part.output.push(line)
      if (part.output.length > 200) part.output.shift()
      console.log(`${name.padEnd(8)} | ${line}`)
    }
  }
  child.stdout?.on('data', show)
  child.stderr?.on('data', show)
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`\n${name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the demo.`)
      void stop(1)
    }
  })
  parts.push(part)
  return part
}

async function waitForHttp (url: string, part: Part, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (part.child.exitCode !== null || stopping) {
      throw new Error(`${part.name} exited before answering at ${url}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await response.body?.cancel()
      if (response.status < 500) return
    } catch {
      // not listening yet
    }
    await delay(200)
  }
  throw new Error(`${part.name} did not answer at ${url} within ${timeoutMs / 1000} s`)
}

async function stop (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  const exits = parts.map((part) => part.child.exitCode === null && part.child.signalCode === null
    ? new Promise<void>((done) => { part.child.once('exit', () => done()); part.child.kill('SIGTERM') })
    : Promise.resolve())
  const hardStop = setTimeout(() => { for (const part of parts) part.child.kill('SIGKILL') }, 10_000)
  hardStop.unref()
  await Promise.all(exits)
  await embedded?.close()
  process.exit(code)
}

process.on('SIGINT', () => { void stop(0) })
process.on('SIGTERM', () => { void stop(0) })
// The parts no longer share the terminal's process group, so a closed terminal reaches them only
// through this process.
process.on('SIGHUP', () => { void stop(0) })
// However this process ends, no part outlives it.
process.on('exit', () => {
  for (const part of parts) {
    if (part.child.exitCode === null && part.child.signalCode === null) part.child.kill('SIGKILL')
  }
})

try {
  let databaseUrl = process.env.DATABASE_URL
  if (databaseUrl === undefined || databaseUrl === '') {
    // Room for the optimized pool (4 × cores) plus the agent's probe and a few replacements.
    embedded = await startEmbeddedPostgres({ maxConnections: 4 * availableParallelism() + 8 })
    databaseUrl = embedded.url
    console.log(`embedded Postgres (PGlite) on ${embedded.host}:${embedded.port}`)
  }
  const upstream = startPart('upstream', 'demo-app/upstream/main.ts', [], { PORT: upstreamPort })
  const app = startPart('demo-app', 'demo-app/main.ts', [], {
    PORT: appPort,
    DATABASE_URL: databaseUrl,
    UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn'
  })
  await waitForHttp(`http://127.0.0.1:${upstreamPort}/`, upstream)
  await waitForHttp(`http://127.0.0.1:${appPort}/health`, app)
  const agent = startPart('agent', 'agent/bin/outrigger.ts', ['--config', configPath, '--listen', agentListen], {
    PORT: appPort,
    DATABASE_URL: databaseUrl,
    OUTRIGGER_LOG_LEVEL: process.env.OUTRIGGER_LOG_LEVEL ?? 'warn'
  })
  const agentUrl = `http://${agentListen}`
  await waitForHttp(`${agentUrl}/readyz`, agent)
  console.log(`
Outrigger is watching the demo app.

  demo app       http://127.0.0.1:${appPort}/api/items?limit=5
                 http://127.0.0.1:${appPort}/health
                 http://127.0.0.1:${appPort}/api/performance/metrics   (outrigger.stats/v1)
  upstream       http://127.0.0.1:${upstreamPort}/
  agent status   ${agentUrl}/
  metrics        ${agentUrl}/metrics
  targets        ${agentUrl}/api/targets
  agent config   ${configPath}

Try: npm run agent -- probe --config ${configPath}
Press Ctrl-C to stop.
`)
} catch (error) {
  console.error(`npm start failed: ${(error as Error).message}`)
  for (const part of parts) {
    if (part.output.length > 0) console.error(`--- last output of ${part.name} ---\n${part.output.slice(-20).join('\n')}`)
  }
  await stop(1)
}
