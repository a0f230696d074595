/**
 * The agent's configuration: load once, validate everything, freeze. Import from here.
 */
export { loadConfigFile, parseConfigText, CONFIG_FILE_MAX_BYTES } from './load-config.ts'
export type { LoadConfigOptions, ParseConfigOptions } from './load-config.ts'
export { ConfigError, formatConfigProblem, formatConfigPath } from './config-problem.ts'
export type { ConfigProblem, ConfigPath } from './config-problem.ts'
export {
  configSchema,
  createConfigSchema,
  resolveTiming,
  DEFAULT_BODY_BYTES,
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_LISTEN,
  DEFAULT_OPEN_PATHS,
  DEFAULT_SERIES_PER_TARGET,
  DEFAULT_TIMEOUT_SECONDS
} from './config-schema.ts'
export type { AgentConfig, AgentConfigInput, ConfigFileAccess, ProbeConfig, ProcessConfig, StatsConfig, TargetConfig } from './config-schema.ts'
export { redactConfig, redactUrl, REDACTED } from './redact-config.ts'
export { configJsonSchema, renderConfigJsonSchema, CONFIG_JSON_SCHEMA_PATH } from './json-schema.ts'
export { parseDuration, formatDuration } from './duration.ts'
export { parseHostPort, parseListenAddress } from './listen-address.ts'
export type { HostPort } from './listen-address.ts'
export type { Environment } from './env-expansion.ts'
