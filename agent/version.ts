import { createRequire } from 'node:module'

/** The agent's version, from package.json, for `outrigger_build_info` and `--version`. */
export const AGENT_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
