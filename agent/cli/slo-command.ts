/**
 * `outrigger slo generate --spec FILE [--out FILE]`: turns an SLO spec into Prometheus recording
 * and alerting rules. Without `--out` the rules go to stdout.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, relative, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/config-problem.ts'
import { describeFileError, readTextFile } from '../config/config-files.ts'
import { OutriggerError } from '../errors.ts'
import { parseSloSpec } from '../slo/slo-spec.ts'
import { renderRuleFile, sloRuleGroups } from '../slo/slo-rules.ts'
import type { CliOutput } from './cli-output.ts'
import { reportFailure } from './cli-output.ts'
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.ts'

/** What `outrigger slo …` asks for. */
export type SloCommand =
  | { name: 'slo-generate', specPath: string, outPath: string | undefined }
  | { name: 'slo-help' }

/** Largest spec read, in bytes: a spec is a page or two. */
export const SLO_SPEC_MAX_BYTES = 1024 * 1024

/** Help for `outrigger slo`, ending in a newline. */
export const SLO_USAGE = `Usage:
  outrigger slo generate --spec FILE [--out FILE]

Turns an SLO spec (Sloth's prometheus/v1 format) into Prometheus recording rules for the SLI over
5m, 30m, 1h, 2h, 6h, 1d and 3d, error-budget rules over 30 days, and multi-window multi-burn-rate
alerts: page on 14.4x over 1h and 5m or 6x over 6h and 30m, ticket on 3x over 1d and 2h or 1x over
3d and 6h.

Options:
  -s, --spec FILE  the SLO spec
  -o, --out FILE   where to write the rules (default: stdout)
  -h, --help       show this help
`

const OPTIONS = {
  spec: { type: 'string', short: 's' },
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' }
} as const

function usageError (message: string, cause?: unknown): OutriggerError {
  return new OutriggerError('OUTRIGGER_ERR_USAGE', message, { cause })
}

/**
 * Parses the arguments after `slo`.
 * @throws {OutriggerError} `OUTRIGGER_ERR_USAGE` naming what is wrong.
 */
export function parseSloCommandLine (argv: readonly string[]): SloCommand {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw usageError(`slo: ${(error as Error).message}`, error)
  }
  const { values, positionals } = parsed
  if (values.help === true) return { name: 'slo-help' }
  const [action, ...extra] = positionals
  if (action !== 'generate') {
    throw usageError(action === undefined ? '`slo` needs an action: `outrigger slo generate --spec FILE [--out FILE]`' : `unknown action \`slo ${action}\`; the only one is \`slo generate\``)
  }
  if (extra.length > 0) throw usageError(`unexpected argument \`${extra[0] ?? ''}\` after \`slo generate\``)
  if (values.spec === undefined || values.spec === '') throw usageError('`slo generate` needs `--spec FILE`')
  return { name: 'slo-generate', specPath: values.spec, outPath: values.out === '' || values.out === '-' ? undefined : values.out }
}

/**
 * The rule file text for the spec `text`, named `specPath` in the header as seen from the folder
 * the rules are written to (`baseDir`), so the header does not depend on where the command runs.
 * @throws {ConfigError} every problem of the spec.
 */
export function generateRuleText (text: string, specPath: string, baseDir: string): string {
  const spec = parseSloSpec(text, specPath)
  const source = relative(baseDir, resolve(specPath)).split(sep).join('/')
  return renderRuleFile(sloRuleGroups(spec), source)
}

/**
 * Runs `slo generate` or `slo --help`; returns 0, 2 for a bad or unreadable spec, 1 when the rules
 * cannot be written. Relative paths start from the process's working directory.
 */
export async function sloCommand (command: SloCommand, output: CliOutput): Promise<number> {
  if (command.name === 'slo-help') {
    output.out(SLO_USAGE)
    return EXIT_OK
  }
  const { specPath, outPath } = command
  let text: string
  try {
    text = await readTextFile(resolve(specPath), SLO_SPEC_MAX_BYTES)
  } catch (error) {
    const message = `cannot read SLO spec \`${specPath}\`: ${describeFileError(error)}`
    return reportFailure(new ConfigError('OUTRIGGER_ERR_CONFIG_READ', message, [{ code: 'OUTRIGGER_ERR_CONFIG_READ', path: '', message, file: specPath }], { cause: error }), output)
  }
  let rules: string
  try {
    rules = generateRuleText(text, specPath, outPath === undefined ? process.cwd() : dirname(resolve(outPath)))
  } catch (error) {
    return reportFailure(error, output)
  }
  if (outPath === undefined) {
    output.out(rules)
    return EXIT_OK
  }
  try {
    const previous = await readFile(outPath, 'utf8').catch(() => undefined)
    if (previous !== rules) {
      // Written beside the target and renamed over it, so Prometheus never loads half a file.
      const temporary = `${outPath}.${process.pid}.tmp`
      await writeFile(temporary, rules)
      await rename(temporary, outPath)
    }
  } catch (error) {
    output.err(`outrigger: cannot write \`${outPath}\`: ${describeFileError(error)}\n`)
    return EXIT_FAILURE
  }
  output.err(`${outPath}: ${rules.split('\n').filter((line) => /^\s+- (record|alert):/.test(line)).length} rules from ${specPath}\n`)
  return EXIT_OK
}
