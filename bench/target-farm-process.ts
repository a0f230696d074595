/** The target farm (bench/target-farm.ts) as a child process of the benchmark. */
import { startChild, type RunningChild } from './child-service.ts'
import type { FarmAddress } from './agent-process.ts'
import { freePort } from '../test/support/postgres.ts'

/** A running farm: where it listens and its pid (the process the agent watches). */
export interface RunningFarm extends FarmAddress {
  readonly child: RunningChild
  stop (): Promise<void>
}

/** Starts the farm and resolves once `/health` answers. */
export async function startTargetFarm (logDir: string): Promise<RunningFarm> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const child = await startChild({ name: 'target-farm', args: ['bench/target-farm.ts'], env: { PORT: String(port) }, logDir, readyUrl: `${origin}/health` })
  return { origin, port, pid: child.pid, child, stop: () => child.stop() }
}
