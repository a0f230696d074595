/**
 * `outrigger probe --config FILE`: loads the config, runs every source once, prints the table.
 */
import type { Logger } from 'pino'
import { loadConfigFile } from '../config/index.ts'
import type { AgentConfig, Environment } from '../config/index.ts'
import type { CliOutput } from './cli-output.ts'
import { reportFailure } from './cli-output.ts'
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts'

/** What the probe command needs from `main.ts`. */
export interface ProbeCommandOptions {
  configPath: string
  env: Environment
  /** The agent's own pid, never selected as a target process. */
  selfPid: number
  logger: Logger
  output: CliOutput
}

/** Returns 0 when every source succeeded, 1 when any failed or the run broke, 2 for a bad config. */
export async function probeCommand (options: ProbeCommandOptions): Promise<number> {
  const { output } = options
  let config: AgentConfig
  try {
    config = await loadConfigFile(options.configPath, { env: options.env })
  } catch (error) {
    return reportFailure(error, output)
  }
  try {
    // Loaded only here, so `check` and `schema` never load the sources and their drivers.
    const { runProbeOnce, renderProbeReport } = await import('../probe-report.ts')
    const report = await runProbeOnce(config, { selfPid: options.selfPid })
    output.out(renderProbeReport(report))
    return report.ok ? EXIT_OK : EXIT_FAILURE
  } catch (error) {
    options.logger.error({ err: error }, 'probe run failed')
    return reportFailure(error, output)
  }
}
