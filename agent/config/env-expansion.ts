/**
 * `${VAR}` and `${VAR:-default}` expansion on the scalar values of a parsed YAML document. Expanding
 * after parsing (rather than on the raw text) keeps every node's line number right and keeps a
 * variable's value from ever being read as YAML structure. `$${X}` is a literal `${X}`.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parse } from 'yaml'
import type { Document, Node, Scalar } from 'yaml'
import type { ConfigPath } from './config-problem.ts'

/** A problem found while expanding: an unset variable, or a reference that is not well formed. */
export interface ExpansionProblem {
  kind: 'unset' | 'malformed'
  path: ConfigPath
  node: Node
  message: string
}

/** The variables expansion reads; `process.env` in production, a plain object in tests. */
export type Environment = Readonly<Record<string, string | undefined>>

const REFERENCE = /\$(\$?)\{([^}]*)(\}?)/g
const NAME_AND_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s

/** What {@link expandEnvironment} did: the problems, and the paths of every value it changed. */
export interface ExpansionResult {
  problems: ExpansionProblem[]
  expanded: ConfigPath[]
}

/**
 * Expands every scalar string value in `doc` in place (keys are left alone). An unquoted scalar
 * that became a number or boolean (`port: ${PORT:-8000}`) takes that type, as if the value had been
 * written there; quoted scalars stay strings (the loader converts them where a number is needed).
 */
export function expandEnvironment (doc: Document, env: Environment): ExpansionResult {
  const problems: ExpansionProblem[] = []
  const expanded: ConfigPath[] = []
  const seen = new Set<Node>()
  const visit = (node: unknown, path: ConfigPath): void => {
    if (isAlias(node) || node === null || node === undefined) return
    // An anchored node is reached once more through each alias; expand it only the first time.
    if (seen.has(node as Node)) return
    seen.add(node as Node)
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        visit(pair.value, [...path, key])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => { visit(item, [...path, index]) })
    } else if (isScalar(node) && typeof node.value === 'string') {
      if (expandScalar(node, path, env, problems)) expanded.push(path)
    }
  }
  visit(doc.contents, [])
  return { problems, expanded }
}

/** Expands one scalar in place; returns whether it held any reference (or escape). */
function expandScalar (node: Scalar, path: ConfigPath, env: Environment, problems: ExpansionProblem[]): boolean {
  const source = node.value as string
  if (!source.includes('${')) return false
  let changed = false
  const expanded = source.replace(REFERENCE, (whole, escape: string, body: string, close: string) => {
    changed = true
    if (escape === '$') return whole.slice(1)
    if (close === '') {
      problems.push({ kind: 'malformed', path, node, message: `unterminated \`\${\` in \`${source}\`; write \`$\${\` for a literal \`\${\`` })
      return whole
    }
    const match = NAME_AND_DEFAULT.exec(body)
    if (match === null) {
      problems.push({ kind: 'malformed', path, node, message: `\`\${${body}}\` is not a variable reference; use \`\${NAME}\` or \`\${NAME:-default}\`` })
      return whole
    }
    const name = match[1] as string
    const fallback = match[2]
    const value = env[name]
    // As in the shell, `:-` also replaces a variable that is set but empty.
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value
    if (value === undefined) {
      problems.push({ kind: 'unset', path, node, message: `environment variable \`${name}\` is not set and \`\${${name}}\` has no default; set it or write \`\${${name}:-default}\`` })
      return ''
    }
    return value
  })
  if (!changed) return false
  node.value = node.type === 'PLAIN' ? retype(expanded) : expanded
  return true
}

/** Reads an expanded plain scalar as YAML would, keeping only numbers and booleans; anything else stays text. */
function retype (text: string): string | number | boolean {
  if (text.trim() === '' || /[\n:#{}[\],&*!|>'"%@`]/.test(text)) return text
  try {
    const value: unknown = parse(text)
    return typeof value === 'number' || typeof value === 'boolean' ? value : text
  } catch {
    return text
  }
}
