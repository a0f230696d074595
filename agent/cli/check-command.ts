/**
 * `outrigger check --config FILE`: validates a config file the way the agent would load it.
 */
import { loadConfigFile } from '../config/index.ts'
import type { AgentConfig, Environment } from '../config/index.ts'
import type { CliOutput } from './cli-output.ts'
import { reportFailure } from './cli-output.ts'
import { EXIT_OK } from './exit-codes.ts'

/** Counts what a config observes, for the one-line summary. */
export function describeConfig (config: AgentConfig): string {
  const sources = config.targets.reduce((sum, target) => sum + (target.stats === undefined ? 0 : 1) + target.probes.length + (target.process === undefined ? 0 : 1), 0)
  const targets = config.targets.length
  return `${targets} target${targets === 1 ? '' : 's'}, ${sources} source${sources === 1 ? '' : 's'}`
}

/**
 * Loads `configPath` with `env` for expansion. Prints `FILE: ok (…)` and returns 0, or prints
 * every problem (one per line) and returns 2.
 */
export async function checkCommand (configPath: string, env: Environment, output: CliOutput): Promise<number> {
  let config: AgentConfig
  try {
    config = await loadConfigFile(configPath, { env })
  } catch (error) {
    return reportFailure(error, output)
  }
  output.out(`${configPath}: ok (${describeConfig(config)})\n`)
  return EXIT_OK
}
