/**
 * Random damage to a valid document, for property tests: replace a value anywhere with an
 * arbitrary one, delete a key or element, or add a key. Inputs close to valid reach far deeper
 * into a validator than arbitrary values, which fail at the root.
 */
import fc from 'fast-check'

/** JSON values plus the numbers JSON cannot carry but `JSON.parse('1e999')` and producers' bugs can. */
export const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, -1, Number.MAX_VALUE, 2 ** 53 + 1, 'NaN', 'Infinity', '-Infinity', '1e999', '', null),
  fc.anything({ maxDepth: 3 })
)

/** One change to a document; `at` picks the place among all of its values, modulo their number. */
export type Mutation =
  | { kind: 'replace', at: number, value: unknown }
  | { kind: 'delete', at: number }
  | { kind: 'add', at: number, key: string, value: unknown }

/** Mutations whose new values come from `values` (default {@link jsonish}) and new keys from `keys`. */
export function mutation (values: fc.Arbitrary<unknown> = jsonish, keys: fc.Arbitrary<string> = fc.string({ maxLength: 10 })): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: values }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: keys, value: values })
  )
}

/** Every path (as key arrays) into `value`, the root included. */
export function valuePaths (value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const here = [prefix]
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, index) => valuePaths(item, [...prefix, index]))]
  if (typeof value === 'object' && value !== null) return [...here, ...Object.entries(value).flatMap(([key, item]) => valuePaths(item, [...prefix, key]))]
  return here
}

/** Applies `change` to a deep copy of `document`. */
export function mutate (document: unknown, change: Mutation): unknown {
  const copy = structuredClone(document) as Record<string | number, unknown>
  const all = valuePaths(copy)
  const path = all[change.at % all.length] as Array<string | number>
  if (path.length === 0) return change.kind === 'replace' ? change.value : copy
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, copy)
  const last = path.at(-1) as string | number
  if (change.kind === 'replace') {
    parent[last] = change.value
  } else if (change.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1)
    else delete parent[last]
  } else if (typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) {
    (parent[last] as Record<string, unknown>)[change.key] = change.value
  }
  return copy
}
