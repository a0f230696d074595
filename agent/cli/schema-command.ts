/**
 * `outrigger schema`: prints the config files' JSON Schema, the same text as the committed
 * docs/schemas/outrigger.config.schema.json (`outrigger schema > docs/schemas/…` refreshes it).
 */
import { renderConfigJsonSchema } from '../config/index.ts'
import type { CliOutput } from './cli-output.ts'
import { EXIT_OK } from './exit-codes.ts'

/** Writes the schema to stdout; returns 0. */
export function schemaCommand (output: CliOutput): number {
  output.out(renderConfigJsonSchema())
  return EXIT_OK
}
