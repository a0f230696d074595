/**
 * The one config loader: YAML text → environment expansion → validation → frozen {@link AgentConfig}.
 * Every problem is collected and thrown together, each with its path and `file:line:col`.
 */
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument, visit } from 'yaml'
import type { Alias, Document } from 'yaml'
import type { z } from 'zod'
import { ConfigError, formatConfigPath, sortConfigProblems } from './config-problem.ts'
import type { ConfigPath, ConfigProblem } from './config-problem.ts'
import { configFileAccess, describeFileError, readTextFile } from './config-files.ts'
import { createConfigSchema } from './config-schema.ts'
import type { AgentConfig, ConfigFileAccess } from './config-schema.ts'
import { deepFreeze } from './deep-freeze.ts'
import { expandEnvironment } from './env-expansion.ts'
import { resolveTracingSettings } from './tracing-settings.ts'
import type { Environment } from './env-expansion.ts'
import { closestOuterKey, configErrorMap, knownKeysAt, unknownKeyMessage } from './issue-messages.ts'
import { findNode, positionOf } from './yaml-locations.ts'

/** Largest config file read, in bytes. A config is a page or two; anything near this is a wrong path. */
export const CONFIG_FILE_MAX_BYTES = 4 * 1024 * 1024

/** Most YAML syntax errors in a config come from an unquoted value holding flow or comment characters. */
const YAML_HINT = ' (a value holding `[`, `{`, `: ` or ` #` needs quotes)'

/** Keys whose values must not appear in problem messages. */
const SECRET_KEYS = new Set(['token', 'password', 'username'])

/** Options for {@link parseConfigText} and {@link loadConfigFile}. */
export interface LoadConfigOptions {
  /** Variables for `${VAR}` expansion; default `process.env`. */
  env?: Environment
}

/** Options for {@link parseConfigText}. */
export interface ParseConfigOptions extends LoadConfigOptions {
  /** File name shown in problems; none when absent. */
  file?: string
  /** Folder relative paths in the config start from; default the current directory. */
  baseDir?: string
  /** File access for secret and TLS files; default the real file system under `baseDir`. */
  files?: ConfigFileAccess
}

/**
 * Reads, expands, validates and freezes the config file at `path`. Relative paths inside the file
 * are resolved from the file's folder; secret files are read.
 * @throws {ConfigError} `OUTRIGGER_ERR_CONFIG_READ` when the file cannot be read or is not YAML;
 *   `OUTRIGGER_ERR_CONFIG_INVALID` with every problem otherwise (unset variables are problems with
 *   code `OUTRIGGER_ERR_CONFIG_ENV`, unusable `OTEL_*` variables with `OUTRIGGER_ERR_TRACING_ENV`).
 */
export async function loadConfigFile (path: string, options: LoadConfigOptions = {}): Promise<AgentConfig> {
  const absolute = resolve(path)
  let text: string
  try {
    text = await readTextFile(absolute, CONFIG_FILE_MAX_BYTES)
  } catch (error) {
    const message = `cannot read config file \`${path}\`: ${describeFileError(error)}`
    throw new ConfigError('OUTRIGGER_ERR_CONFIG_READ', message, [{ code: 'OUTRIGGER_ERR_CONFIG_READ', path: '', message, file: path }], { cause: error })
  }
  return await parseConfigText(text, { ...options, file: path, baseDir: dirname(absolute) })
}

/**
 * Parses config `text` (YAML) into a frozen {@link AgentConfig}; {@link loadConfigFile} without the file.
 * @throws {ConfigError} as {@link loadConfigFile} does.
 */
export async function parseConfigText (text: string, options: ParseConfigOptions = {}): Promise<AgentConfig> {
  const { file } = options
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const at = (path: ConfigPath, node = findNode(doc, path)): Pick<ConfigProblem, 'file' | 'line' | 'col'> => {
    const position = positionOf(node, lineCounter)
    return { ...(file === undefined ? {} : { file }), ...position }
  }

  if (doc.errors.length > 0) {
    // Later parse errors are almost always knock-on effects of the first; listing them buries it.
    const first = doc.errors[0] as (typeof doc.errors)[number]
    const more = doc.errors.length > 1 ? ` (${doc.errors.length - 1} more error${doc.errors.length > 2 ? 's' : ''} after it may follow from this one)` : ''
    const problem: ConfigProblem = {
      code: 'OUTRIGGER_ERR_CONFIG_READ',
      path: '',
      message: `not valid YAML: ${first.message.split('\n')[0] ?? ''}${first.code === 'DUPLICATE_KEY' ? '' : YAML_HINT}${more}`,
      ...(file === undefined ? {} : { file }),
      ...lineCounter.linePos(first.pos[0])
    }
    throw new ConfigError('OUTRIGGER_ERR_CONFIG_READ', `${file ?? 'the configuration'} is not valid YAML:`, [problem])
  }

  const problems: ConfigProblem[] = []
  if (doc.contents === null) {
    problems.push({ code: 'OUTRIGGER_ERR_CONFIG_INVALID', path: '', message: 'the configuration is empty; it needs at least `targets`', ...at([]) })
    throw invalid(file, problems)
  }

  const expansion = expandEnvironment(doc, options.env ?? process.env)
  for (const problem of expansion.problems) {
    problems.push({
      code: problem.kind === 'unset' ? 'OUTRIGGER_ERR_CONFIG_ENV' : 'OUTRIGGER_ERR_CONFIG_INVALID',
      path: formatConfigPath(problem.path),
      message: problem.message,
      ...at(problem.path, problem.node)
    })
  }

  const schema = createConfigSchema(options.files ?? configFileAccess(options.baseDir ?? process.cwd()))
  let data: unknown
  try {
    data = toPlainData(doc)
  } catch (error) {
    // yaml refuses to expand an alias bomb with a plain ReferenceError: the file's fault, not a crash.
    const alias = firstAlias(doc)
    const problem: ConfigProblem = {
      code: 'OUTRIGGER_ERR_CONFIG_READ',
      path: '',
      message: `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT}): ${(error as Error).message}`,
      ...(file === undefined ? {} : { file }),
      ...(alias?.range == null ? {} : lineCounter.linePos(alias.range[0]))
    }
    throw new ConfigError('OUTRIGGER_ERR_CONFIG_READ', `${file ?? 'the configuration'} cannot be read:`, [problem], { cause: error })
  }
  const parse = async (): Promise<z.ZodSafeParseResult<AgentConfig>> => await schema.safeParseAsync(data, { reportInput: true, error: configErrorMap })
  let result = await parse()
  // A quoted `"${PORT}"` is text; where the key needs a number or boolean, read the text as one.
  if (!result.success && coerceExpandedValues(data, result.error.issues, expansion.expanded)) result = await parse()
  if (!result.success) {
    // A value left empty by an unset variable would only repeat that problem in other words.
    const blanked = expansion.problems.map((problem) => problem.path)
    for (const issue of result.error.issues) {
      const path = issue.path as Array<string | number>
      if (blanked.some((prefix) => startsWith(path, prefix))) continue
      problems.push(...problemsFromIssue(issue, path, schema, doc, at))
    }
  }
  if (problems.length > 0) throw invalid(file, problems)
  const config = (result as { data: AgentConfig }).data
  // The OTEL_* variables win over the file's `tracing` section, as the OpenTelemetry spec says.
  const tracing = resolveTracingSettings(config.tracing, options.env ?? process.env)
  for (const problem of tracing.problems) {
    problems.push({ code: 'OUTRIGGER_ERR_TRACING_ENV', path: '', message: problem.message })
  }
  if (problems.length > 0) throw invalid(file, problems)
  return deepFreeze({ ...config, tracing: tracing.settings })
}

function startsWith (path: ConfigPath, prefix: ConfigPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => path[index] === segment)
}

/**
 * Converts, in `data`, each expanded text value that an issue says should be a number or boolean
 * and that reads as one. Returns whether anything changed.
 */
function coerceExpandedValues (data: unknown, issues: readonly z.core.$ZodIssue[], expanded: readonly ConfigPath[]): boolean {
  let changed = false
  for (const issue of issues) {
    if (issue.code !== 'invalid_type' || typeof issue.input !== 'string') continue
    const path = issue.path as Array<string | number>
    if (!expanded.some((candidate) => candidate.length === path.length && startsWith(path, candidate))) continue
    const text = issue.input.trim()
    let value: number | boolean | undefined
    if ((issue.expected === 'number' || issue.expected === 'int') && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) value = Number(text)
    else if (issue.expected === 'boolean' && (text === 'true' || text === 'false')) value = text === 'true'
    if (value === undefined) continue
    const parent = path.slice(0, -1).reduce<unknown>((node, segment) => (node as Record<string | number, unknown> | undefined)?.[segment], data)
    if (typeof parent === 'object' && parent !== null) {
      (parent as Record<string | number, unknown>)[path.at(-1) as string | number] = value
      changed = true
    }
  }
  return changed
}

/** Most alias expansions a config may use; an alias bomb would expand to gigabytes, a real config uses a handful. */
const MAX_ALIAS_COUNT = 1000

function toPlainData (doc: Document): unknown {
  return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
}

function firstAlias (doc: Document): Alias | undefined {
  let found: Alias | undefined
  visit(doc, { Alias (_key, node) { found = node; return visit.BREAK } })
  return found
}

function invalid (file: string | undefined, problems: ConfigProblem[]): ConfigError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  return new ConfigError('OUTRIGGER_ERR_CONFIG_INVALID', `${file ?? 'the configuration'} is invalid (${count}):`, sortConfigProblems(problems))
}

function problemsFromIssue (
  issue: z.core.$ZodIssue,
  path: Array<string | number>,
  schema: z.ZodType,
  doc: Document,
  at: (path: ConfigPath, node?: ReturnType<typeof findNode>) => Pick<ConfigProblem, 'file' | 'line' | 'col'>
): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(schema, path)
    return issue.keys.map((key) => ({
      code: 'OUTRIGGER_ERR_CONFIG_INVALID',
      path: formatConfigPath([...path, key]),
      message: unknownKeyMessage(key, known, closestOuterKey(schema, path, key)),
      ...at([...path, key], findNode(doc, path, key))
    }))
  }
  let message = issue.message
  const last = path.at(-1)
  if (typeof last === 'string' && SECRET_KEYS.has(last) && issue.code === 'invalid_type' && issue.input !== undefined) {
    message = `expected text, got ${Array.isArray(issue.input) ? 'a list' : typeof issue.input}`
  }
  return [{ code: 'OUTRIGGER_ERR_CONFIG_INVALID', path: formatConfigPath(path), message, ...at(path) }]
}
