/**
 * One thing wrong with a configuration file, and the error that carries all of them.
 */
import { OutriggerError } from '../errors.ts'
import type { ErrorCode } from '../errors.ts'

/** A path into the config document: keys and sequence indexes, outermost first. */
export type ConfigPath = ReadonlyArray<string | number>

/** One problem found while loading a configuration file. */
export interface ConfigProblem {
  /** `OUTRIGGER_ERR_CONFIG_ENV` for an unset variable, otherwise `OUTRIGGER_ERR_CONFIG_INVALID` or `_READ`. */
  readonly code: ErrorCode
  /** Dotted path such as `targets[0].probes[1].http.url`; empty for the document as a whole. */
  readonly path: string
  /** What is wrong, naming the offending value. */
  readonly message: string
  /** The file the problem is in, when loaded from a file. */
  readonly file?: string
  /** 1-based line and column of the offending node, when known. */
  readonly line?: number
  readonly col?: number
}

/**
 * Thrown by the config loader: `code` is `OUTRIGGER_ERR_CONFIG_READ` when the file could not be read
 * or is not YAML, otherwise `OUTRIGGER_ERR_CONFIG_INVALID`. `problems` lists every problem found,
 * in file order; the message lists them too, one per line, so logging the error shows them all.
 */
export class ConfigError extends OutriggerError {
  readonly problems: readonly ConfigProblem[]
  constructor (code: 'OUTRIGGER_ERR_CONFIG_READ' | 'OUTRIGGER_ERR_CONFIG_INVALID', summary: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super(code, [summary, ...problems.map((problem) => `  ${formatConfigProblem(problem)}`)].join('\n'), options)
    this.name = 'ConfigError'
    this.problems = Object.freeze([...problems])
  }
}

/** Renders a path such as `['targets', 0, 'stats', 'headers', 'X-Id']` as `targets[0].stats.headers["X-Id"]`. */
export function formatConfigPath (path: ConfigPath): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) text += text === '' ? segment : `.${segment}`
    else text += `[${JSON.stringify(segment)}]`
  }
  return text
}

/** One line for people: `file:line:col path: message`, leaving out the parts that are unknown. */
export function formatConfigProblem (problem: ConfigProblem): string {
  let where = problem.file ?? ''
  if (problem.line !== undefined) where += `${where === '' ? 'line ' : ':'}${problem.line}:${problem.col ?? 1}`
  const location = [where, problem.path].filter((part) => part !== '').join(' ')
  return location === '' ? problem.message : `${location}: ${problem.message}`
}

/** Orders problems as they appear in the file; problems without a position keep their order, last. */
export function sortConfigProblems (problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => {
      const lineA = a.problem.line ?? Number.POSITIVE_INFINITY
      const lineB = b.problem.line ?? Number.POSITIVE_INFINITY
      if (lineA !== lineB) return lineA - lineB
      const colA = a.problem.col ?? 0
      const colB = b.problem.col ?? 0
      return colA !== colB ? colA - colB : a.index - b.index
    })
    .map(({ problem }) => problem)
}
