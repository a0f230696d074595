/**
 * Finds where a config path sits in the YAML source, so problems can say `file:line:col`.
 * Works on the parsed document (not the plain object) because only nodes know their offsets.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml'
import type { Document, LineCounter, Node } from 'yaml'
import type { ConfigPath } from './config-problem.ts'

/** A 1-based line and column. */
export interface SourcePosition {
  line: number
  col: number
}

/**
 * The node at `path`, or the deepest existing ancestor when the path runs off the document (a
 * missing key points at the mapping that should hold it). With `keyOf`, the key node of that entry
 * in the mapping at `path` is returned instead (used for unknown keys).
 */
export function findNode (doc: Document, path: ConfigPath, keyOf?: string): Node | undefined {
  let node: unknown = doc.contents
  for (const segment of path) {
    const child = childOf(doc, node, segment)
    if (child === undefined) return node as Node | undefined
    node = child.value
  }
  if (keyOf !== undefined) return childOf(doc, node, keyOf)?.key ?? (node as Node | undefined)
  return node as Node | undefined
}

function childOf (doc: Document, parent: unknown, segment: string | number): { key?: Node, value: Node } | undefined {
  const node = isAlias(parent) ? parent.resolve(doc) : parent
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const key = isScalar(pair.key) ? pair.key.value : pair.key
      // Keys compare as text: YAML may type a key such as `200` as a number.
      if (String(key) === String(segment)) return { key: pair.key as Node, value: (pair.value ?? pair.key) as Node }
    }
    return undefined
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment]
    return item === undefined || item === null ? undefined : { value: item as Node }
  }
  return undefined
}

/** The line and column where `node` starts, when the parser recorded its range. */
export function positionOf (node: Node | undefined, lineCounter: LineCounter): SourcePosition | undefined {
  const start = node?.range?.[0]
  return start === undefined ? undefined : lineCounter.linePos(start)
}
