/**
 * Turns argv and the environment into one {@link Command}. Pure: `main.ts` passes `process.argv`
 * and `process.env` in, so every rule here is testable without spawning.
 */
import { parseArgs } from 'node:util'
import { OutriggerError } from '../errors.ts'
import { closestKey } from '../config/closest-key.ts'
import { parseHostPort } from '../config/listen-address.ts'
import { parseSloCommandLine } from './slo-command.ts'
import type { SloCommand } from './slo-command.ts'

/** Log levels `OUTRIGGER_LOG_LEVEL` accepts (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

/** What the command line asks for. */
export type Command =
  | { name: 'run', configPath: string, listen: string | undefined, logLevel: LogLevel }
  | { name: 'check', configPath: string }
  | { name: 'probe', configPath: string, logLevel: LogLevel }
  | { name: 'schema' }
  | { name: 'help' }
  | { name: 'version' }
  | SloCommand

/** Subcommands; running the agent has none (`outrigger --config FILE`). */
const SUBCOMMANDS = ['check', 'probe', 'schema', 'slo', 'help'] as const

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  listen: { type: 'string', short: 'l' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' }
} as const

function usageError (message: string): OutriggerError {
  return new OutriggerError('OUTRIGGER_ERR_USAGE', message)
}

/** Rewrites node:util's parse errors as one short sentence, with the nearest option when one is close. */
function describeParseError (error: unknown): string {
  const message = (error as Error).message
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1] ?? message
    const suggestion = closestKey(option.replace(/^-+/, ''), Object.keys(OPTIONS))
    return `unknown option \`${option}\`${suggestion === undefined ? '' : `; did you mean \`--${suggestion}\`?`}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /--([a-z]+)/.exec(message)?.[1]
    return option === undefined ? message : `\`--${option}\` needs a value`
  }
  return message
}

/**
 * Parses the command line.
 * @param argv the arguments after the script (`process.argv.slice(2)`)
 * @param env the environment: `OUTRIGGER_CONFIG`, `OUTRIGGER_LISTEN`, `OUTRIGGER_LOG_LEVEL`
 * @throws {OutriggerError} `OUTRIGGER_ERR_USAGE` naming what is wrong.
 */
export function parseCommandLine (argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Command {
  // `slo` has options of its own (`--spec`, `--out`), so it parses the rest itself.
  if (argv[0] === 'slo') return parseSloCommandLine(argv.slice(1))
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new OutriggerError('OUTRIGGER_ERR_USAGE', describeParseError(error), { cause: error })
  }
  const { values, positionals } = parsed
  if (values.help === true) return { name: 'help' }
  if (values.version === true) return { name: 'version' }

  const [subcommand, ...extra] = positionals
  if (subcommand !== undefined && !(SUBCOMMANDS as readonly string[]).includes(subcommand)) {
    const suggestion = closestKey(subcommand, SUBCOMMANDS)
    throw usageError(`unknown command \`${subcommand}\`${suggestion === undefined ? `; commands are ${SUBCOMMANDS.map((name) => `\`${name}\``).join(', ')}` : `; did you mean \`${suggestion}\`?`}`)
  }
  if (subcommand === 'slo') throw usageError('put `slo` first: `outrigger slo generate --spec FILE [--out FILE]`')
  if (extra.length > 0) throw usageError(`unexpected argument \`${extra[0] ?? ''}\` after \`${subcommand ?? ''}\``)
  if (subcommand === 'help') return { name: 'help' }

  const name = subcommand ?? 'run'
  if (values.listen !== undefined && name !== 'run') throw usageError(`\`--listen\` applies only when running the agent, not to \`${name}\``)
  if (name === 'schema') {
    if (values.config !== undefined) throw usageError('`schema` takes no `--config`; it prints the schema every config file follows')
    return { name: 'schema' }
  }

  const configPath = values.config ?? nonEmpty(env.OUTRIGGER_CONFIG)
  if (configPath === undefined || configPath === '') {
    throw usageError('no config file: pass `--config FILE` or set OUTRIGGER_CONFIG')
  }
  if (name === 'check') return { name: 'check', configPath }

  const levelText = nonEmpty(env.OUTRIGGER_LOG_LEVEL) ?? 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(levelText)) {
    throw usageError(`OUTRIGGER_LOG_LEVEL=\`${levelText}\` is not a log level; use one of ${LOG_LEVELS.join(', ')}`)
  }
  const logLevel = levelText as LogLevel
  if (name === 'probe') return { name: 'probe', configPath, logLevel }

  const listen = values.listen ?? nonEmpty(env.OUTRIGGER_LISTEN)
  if (listen !== undefined) {
    const address = parseHostPort(listen)
    if ('error' in address) throw usageError(`${values.listen === undefined ? 'OUTRIGGER_LISTEN' : '--listen'}: ${address.error}`)
  }
  return { name: 'run', configPath, listen, logLevel }
}

/** An empty variable counts as unset, as `VAR= outrigger …` intends. */
function nonEmpty (value: string | undefined): string | undefined {
  return value === '' ? undefined : value
}
