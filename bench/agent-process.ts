/**
 * The agent as the benchmark runs it: `node agent/bin/outrigger.ts --config FILE`, exactly as a
 * user starts it, with a config the benchmark writes, ready once `/readyz` says every source has
 * run. Also the configs themselves: the demo app watched like production (step 4) and N copies of
 * a target on the target farm (steps 6 and the `/metrics` render step).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { startChild, type RunningChild } from './child-service.ts'
import { freePort } from '../test/support/postgres.ts'

/** A running agent. */
export interface RunningAgent {
  readonly origin: string
  readonly child: RunningChild
  stop (): Promise<void>
}

/** The command that starts the agent, relative to the repository root. */
export const AGENT_ENTRY = 'agent/bin/outrigger.ts'

/**
 * Writes `config` (with `server.listen` filled in) to `<logDir>/<name>.yaml` and starts the agent on it.
 * @throws Error with the end of the agent's log when it does not become ready.
 */
export async function startAgent (name: string, config: Record<string, unknown>, logDir: string, readyTimeoutMs = 120_000): Promise<RunningAgent> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const file = join(logDir, `${name}.yaml`)
  await writeFile(file, stringify({ server: { listen: `127.0.0.1:${port}` }, ...config }))
  const child = await startChild({
    name,
    args: [AGENT_ENTRY, '--config', file],
    env: { OUTRIGGER_LOG_LEVEL: 'warn', OTEL_TRACES_EXPORTER: 'none' },
    logDir,
    readyUrl: `${origin}/readyz`,
    readyTimeoutMs
  })
  return { origin, child, stop: () => child.stop() }
}

/** `defaults` for sources that run every `intervalSeconds`: the timeout is below the interval, at most 5 s. */
function defaultsFor (intervalSeconds: number): Record<string, string> {
  return { interval: `${intervalSeconds}s`, timeout: `${Math.min(5000, Math.round(intervalSeconds * 800))}ms` }
}

/** Step 4: the demo app watched as in production, every source every `intervalSeconds`. */
export function demoAppAgentConfig (app: { origin: string, port: number }, databaseUrl: string, intervalSeconds: number): Record<string, unknown> {
  return {
    defaults: defaultsFor(intervalSeconds),
    targets: [{
      name: 'demo-app',
      stats: { url: `${app.origin}/api/performance/metrics` },
      probes: [
        { name: 'health', http: { url: `${app.origin}/health`, expectStatus: [200] } },
        { name: 'port', tcp: { address: `127.0.0.1:${app.port}` } },
        { name: 'db', postgres: { url: databaseUrl } }
      ],
      process: { port: app.port }
    }]
  }
}

/** The target farm as the configs below need it. */
export interface FarmAddress {
  origin: string
  port: number
  pid: number
}

/**
 * Steps 6 and render: `targets` targets on the farm. With `probes`, each target has a stats
 * document (`routes` routes), an HTTP and a TCP probe and the farm's process: four sources.
 */
export function farmAgentConfig (farm: FarmAddress, options: { targets: number, intervalSeconds: number, routes: number, probes: boolean }): Record<string, unknown> {
  return {
    defaults: defaultsFor(options.intervalSeconds),
    limits: { bodyBytes: 16 * 1024 * 1024, seriesPerTarget: 20_000 },
    targets: Array.from({ length: options.targets }, (_, i) => ({
      name: `t${i + 1}`,
      stats: { url: `${farm.origin}/stats?routes=${options.routes}&t=${i + 1}` },
      ...(options.probes
        ? {
            probes: [
              { name: 'health', http: { url: `${farm.origin}/health` } },
              { name: 'port', tcp: { address: `127.0.0.1:${farm.port}` } }
            ],
            process: { pid: farm.pid }
          }
        : {})
    }))
  }
}
