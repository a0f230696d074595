/**
 * Plain-language messages for zod's built-in issues, and the keys an object in the schema accepts
 * (for "did you mean" on unknown keys). Messages the schema sets itself take precedence over these.
 */
import type { z } from 'zod'
import { closestKey } from './closest-key.ts'
import { formatConfigPath } from './config-problem.ts'
import { describeValue } from './describe-value.ts'

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  null: 'null'
}

function plural (count: number | bigint, word: string): string {
  return `${count} ${word}${count === 1 || count === 1n ? '' : 's'}`
}

/** The parse-level error map: one clear sentence per built-in issue, naming the offending value. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required'
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`
    case 'invalid_value': {
      const values = issue.values.map((value) => `\`${String(value)}\``)
      const suggestion = typeof issue.input === 'string' ? closestKey(issue.input, issue.values.map(String)) : undefined
      return `expected ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, got ${describeValue(issue.input)}${suggestion === undefined ? '' : `; did you mean \`${suggestion}\`?`}`
    }
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${plural(issue.minimum, 'entry').replace('entrys', 'entries')}`
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${plural(issue.minimum, 'character')} long`
      return `must be ${issue.inclusive === true ? 'at least' : 'above'} ${String(issue.minimum)}, got ${String(issue.input)}`
    case 'too_big':
      if (issue.origin === 'array') return `allows at most ${plural(issue.maximum, 'entry').replace('entrys', 'entries')}`
      if (issue.origin === 'string') return `must be at most ${plural(issue.maximum, 'character')} long`
      return `must be ${issue.inclusive === true ? 'at most' : 'below'} ${String(issue.maximum)}, got ${String(issue.input)}`
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => `\`${key}\``).join(', ')}`
    default:
      return undefined
  }
}

/** The little of zod's schema internals needed to walk to an object's shape. */
interface SchemaDefinition {
  type: string
  innerType?: SchemaNode
  in?: SchemaNode
  element?: SchemaNode
  valueType?: SchemaNode
  shape?: Record<string, SchemaNode>
  options?: SchemaNode[]
}
interface SchemaNode { _zod: { def: SchemaDefinition } }

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'])

function unwrap (node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node
  while (current !== undefined) {
    const def: SchemaDefinition = current._zod.def
    if (WRAPPERS.has(def.type)) current = def.innerType
    else if (def.type === 'pipe') current = def.in
    else return current
  }
  return undefined
}

/** The keys the object at `path` in `schema` accepts; empty when `path` does not lead to an object. */
export function knownKeysAt (schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  let node = unwrap(schema as unknown as SchemaNode)
  for (const segment of path) {
    const def = node?._zod.def
    if (def === undefined) return []
    if (def.type === 'object') node = unwrap(def.shape?.[String(segment)])
    else if (def.type === 'array') node = unwrap(def.element)
    else if (def.type === 'record') node = unwrap(def.valueType)
    else return []
  }
  const def = node?._zod.def
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : []
}

/** Where an unknown key was probably meant to go: a close key of an enclosing object. */
export interface OuterKey {
  key: string
  /** The enclosing object's path, as printed (`targets[0].probes[0]`), or '' for the top level. */
  at: string
}

/** How many enclosing objects to search: a key put one level too deep is the common slip. */
const OUTER_LEVELS = 2

/**
 * A key close to `key` in one of the nearest objects enclosing `path` (`timeout` written inside
 * `http:` when it belongs to the probe), for when the object at `path` has none.
 */
export function closestOuterKey (schema: z.ZodType, path: ReadonlyArray<string | number>, key: string): OuterKey | undefined {
  let levels = 0
  for (let depth = path.length - 1; depth >= 0 && levels < OUTER_LEVELS; depth--) {
    const outer = path.slice(0, depth)
    const known = knownKeysAt(schema, outer)
    if (known.length === 0) continue
    levels++
    const suggestion = closestKey(key, known)
    if (suggestion !== undefined) return { key: suggestion, at: formatConfigPath(outer) }
  }
  return undefined
}

/**
 * "unknown key `x`" with the nearest accepted key, else the close key of an enclosing object, else
 * the list of accepted keys.
 */
export function unknownKeyMessage (key: string, known: readonly string[], outer?: OuterKey): string {
  const suggestion = closestKey(key, known)
  if (suggestion !== undefined) return `unknown key \`${key}\`; did you mean \`${suggestion}\`?`
  if (outer !== undefined) {
    return `unknown key \`${key}\` here; did you mean \`${outer.key}\`, which belongs ${outer.at === '' ? 'at the top level' : `in \`${outer.at}\``}?`
  }
  if (known.length === 0) return `unknown key \`${key}\``
  return `unknown key \`${key}\`; expected one of ${known.map((name) => `\`${name}\``).join(', ')}`
}
