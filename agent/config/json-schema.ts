/**
 * The editor JSON Schema for config files, generated from the zod schema so the two cannot drift.
 * `outrigger schema` prints it; docs/schemas/outrigger.config.schema.json is its committed copy.
 */
import { z } from 'zod'
import { configSchema } from './config-schema.ts'

/** Where the committed schema lives, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = 'docs/schemas/outrigger.config.schema.json'

/** A text value holding `${…}`: its final value is known only after expansion. */
const VARIABLE_REFERENCE = { type: 'string', pattern: '\\$\\{' } as const

/** Keywords that describe a value rather than constrain it; they stay outside the `anyOf`. */
const ANNOTATIONS = new Set(['description', 'default', 'title', 'examples'])

type JsonObject = Record<string, unknown>

function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Lets every constrained scalar also be a `${VAR}` reference, so an editor does not flag
 * `port: ${APP_PORT}`; the loader checks the expanded value.
 */
function allowVariables (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowVariables)
  if (!isObject(node)) return node
  const walked = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, allowVariables(value)]))
  const type = walked.type
  const constrained = type === 'integer' || type === 'number' || type === 'boolean' ||
    (type === 'string' && (walked.pattern !== undefined || walked.enum !== undefined))
  if (!constrained) return walked
  const annotations = Object.entries(walked).filter(([key]) => ANNOTATIONS.has(key))
  const constraint = Object.fromEntries(Object.entries(walked).filter(([key]) => !ANNOTATIONS.has(key)))
  return { ...Object.fromEntries(annotations), anyOf: [constraint, VARIABLE_REFERENCE] }
}

/**
 * The JSON Schema (draft 2020-12) of what a config file may hold, before `${VAR}` expansion.
 * Cross-field rules (exactly one probe kind, timeout below interval, unique names, readable files)
 * are enforced by `outrigger check`, not by the JSON Schema.
 */
export function configJsonSchema (): JsonObject {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' })
  return {
    $schema: generated.$schema,
    title: 'Outrigger agent configuration',
    ...(allowVariables(generated) as JsonObject)
  }
}

/** The schema as the committed file holds it: two-space JSON with a trailing newline. */
export function renderConfigJsonSchema (): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}
