/**
 * The editor JSON Schema for config files, generated from the zod schema so the two cannot drift.
 * `outrigger schema` prints it; docs/schemas/outrigger.config.schema.json is its committed copy.
 */
import { z } from 'zod'
import { configSchema } from './config-schema.ts'

/** Where the committed schema lives, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = 'docs/schemas/outrigger.config.schema.json'

/**
 * The JSON Schema (draft 2020-12) of what a config file may hold, before `${VAR}` expansion.
 * Cross-field rules (exactly one probe kind, timeout below interval, unique names) are enforced
 * by `outrigger check`, not by the JSON Schema.
 */
export function configJsonSchema (): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' })
  return {
    $schema: generated.$schema,
    $id: 'https://github.com/outrigger/outrigger/docs/schemas/outrigger.config.schema.json',
    title: 'Outrigger agent configuration',
    ...generated
  }
}

/** The schema as the committed file holds it: two-space JSON with a trailing newline. */
export function renderConfigJsonSchema (): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}
