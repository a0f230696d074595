/**
 * The process entry: the only file that touches argv, the environment and signals. It parses the
 * command line, creates the logger (JSON lines on stdout), and runs one command. Running the agent
 * means: load the config, `startAgent`, reload on SIGHUP, stop on SIGTERM / SIGINT with a hard
 * deadline. `npm run agent -- …` and the `outrigger` bin both come here.
 */
import { pino } from 'pino'
import type { Logger } from 'pino'
import { loadConfigFile } from './config/index.ts'
import type { AgentConfig } from './config/index.ts'
import { checkCommand } from './cli/check-command.ts'
import { reportFailure } from './cli/cli-output.ts'
import type { CliOutput } from './cli/cli-output.ts'
import { parseCommandLine } from './cli/command-line.ts'
import type { Command, LogLevel } from './cli/command-line.ts'
import { EXIT_FAILURE, EXIT_OK } from './cli/exit-codes.ts'
import { probeCommand } from './cli/probe-command.ts'
import { schemaCommand } from './cli/schema-command.ts'
import { sloCommand } from './cli/slo-command.ts'
import { USAGE } from './cli/usage.ts'
import { AGENT_VERSION } from './version.ts'

/** How long SIGTERM / SIGINT wait for a clean stop before exiting anyway, in milliseconds. */
export const SHUTDOWN_DEADLINE_MS = 10_000

const processOutput: CliOutput = {
  out: (text) => { process.stdout.write(text) },
  err: (text) => { process.stderr.write(text) }
}

/**
 * Runs the command `argv` asks for and resolves with the exit code (0 ok, 1 runtime failure,
 * 2 bad usage or config). For the agent itself it resolves once the agent has stopped.
 */
export async function main (argv: readonly string[], env: NodeJS.ProcessEnv, output: CliOutput = processOutput): Promise<number> {
  let command: Command
  try {
    command = parseCommandLine(argv, env)
  } catch (error) {
    return reportFailure(error, output)
  }
  switch (command.name) {
    case 'help':
      output.out(USAGE)
      return EXIT_OK
    case 'version':
      output.out(`${AGENT_VERSION}\n`)
      return EXIT_OK
    case 'schema':
      return schemaCommand(output)
    case 'check':
      return await checkCommand(command.configPath, env, output)
    case 'probe':
      // Logs go to stderr here, so the report on stdout stays readable and pipeable.
      return await probeCommand({ configPath: command.configPath, env, selfPid: process.pid, logger: createLogger(command.logLevel, 2), output })
    case 'run':
      return await runAgent(command, env, output)
    case 'slo-generate':
    case 'slo-help':
      return await sloCommand(command, output)
  }
}

function createLogger (level: LogLevel, fd: 1 | 2): Logger {
  return pino({ name: 'outrigger', level }, pino.destination({ fd, sync: true }))
}

/** Loads the config, starts the agent, and serves until a stop signal; resolves with the exit code. */
async function runAgent (command: Extract<Command, { name: 'run' }>, env: NodeJS.ProcessEnv, output: CliOutput): Promise<number> {
  let config: AgentConfig
  try {
    config = await loadConfigFile(command.configPath, { env })
  } catch (error) {
    return reportFailure(error, output)
  }
  const logger = createLogger(command.logLevel, 1)
  // Loaded only here, so `check`, `schema` and `--help` never load the pipeline and its drivers.
  const { startAgent } = await import('./agent.ts')
  let agent: Awaited<ReturnType<typeof startAgent>>
  try {
    agent = await startAgent({ config, configPath: command.configPath, listen: command.listen, logger })
  } catch (error) {
    logger.error({ err: error }, 'the agent could not start')
    return reportFailure(new Error(`cannot start: ${(error as Error).message}`, { cause: error }), output)
  }

  return await new Promise<number>((resolve) => {
    let stopping = false
    const onReload = (): void => {
      logger.info('SIGHUP: reloading the configuration')
      agent.reload().catch((error: unknown) => { logger.error({ err: error }, 'configuration reload failed') })
    }
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: exiting now')
        process.exit(EXIT_FAILURE)
      }
      stopping = true
      logger.info({ signal }, 'stopping')
      // Unref'd: it never keeps a finished process alive, yet fires if something else does.
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'the agent did not stop in time: exiting anyway')
        process.exit(EXIT_FAILURE)
      }, SHUTDOWN_DEADLINE_MS)
      deadline.unref()
      agent.close().then(() => {
        process.off('SIGHUP', onReload)
        process.off('SIGTERM', onStop)
        process.off('SIGINT', onStop)
        logger.info('stopped')
        resolve(EXIT_OK)
      }, (error: unknown) => {
        logger.error({ err: error }, 'the agent failed to stop cleanly')
        resolve(EXIT_FAILURE)
      })
    }
    process.on('SIGHUP', onReload)
    process.on('SIGTERM', onStop)
    process.on('SIGINT', onStop)
  })
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), process.env)
}
