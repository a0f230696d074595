/**
 * The demo app's configuration: the only module that reads the environment. Every variable is
 * validated once, every problem is reported together (naming the variable and its value), and the
 * result is frozen. docs/demo-app.md lists each variable with its default in both profiles.
 */
import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { DemoAppError } from './errors.ts'

/** The two profiles: `optimized` applies the report's settings, `baseline` keeps library defaults. */
export const DEMO_PROFILES = ['optimized', 'baseline'] as const
export type DemoProfile = typeof DEMO_PROFILES[number]

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

/** Postgres connection pool settings (see `plugins/db-pool.ts`). */
export interface DbPoolConfig {
  /** Most connections the pool opens. Optimized: 4 × CPU cores; baseline: 10 (pg's default). */
  readonly max: number
  /** Connections kept open and warm. Optimized: CPU cores; baseline: 0. */
  readonly min: number
  /** How long a request waits for a free connection before a 503, in ms. Both profiles: 10,000. */
  readonly acquireTimeoutMs: number
  /** Idle connections above `min` close after this long, in ms. Optimized: 600,000; baseline: 10,000. */
  readonly idleTimeoutMs: number
  /** Connections are replaced after this many seconds (0 = never). Optimized: 1,800; baseline: 0. */
  readonly maxLifetimeSeconds: number
  /** Postgres cancels a statement that runs longer, in ms (0 = never). Both profiles: 10,000. */
  readonly statementTimeoutMs: number
  /** Deadline of the `/health` database check, in ms, kept below the container HEALTHCHECK's 3 s. */
  readonly healthTimeoutMs: number
}

/** In-memory L1 cache settings for catalogue items (see `plugins/item-cache.ts`). */
export interface CacheConfig {
  /** Most entries; 0 turns the cache off (the baseline default). */
  readonly maxEntries: number
  /** Most bytes, as the JSON size of the cached items. */
  readonly maxBytes: number
  /** Time to live of an entry, in ms. */
  readonly ttlMs: number
}

/** Outbound HTTP client settings for the upstream (see `plugins/upstream-client.ts`). */
export interface UpstreamConfig {
  /** Origin (and optional base path) of the upstream service. */
  readonly url: string
  /** Whole-request deadline, in ms; past it the route answers 504. Both profiles: 10,000. */
  readonly timeoutMs: number
  /** Most connections to the origin; `null` = no limit (undici's default, used by baseline). */
  readonly connections: number | null
  /** Keep idle connections open and reuse them. Optimized: true; baseline: false (a new connection per request). */
  readonly reuseConnections: boolean
  /** Idle connections close after this long, in ms. Optimized: 30,000; baseline: 4,000 (undici's default). */
  readonly keepAliveTimeoutMs: number
  /** TCP keep-alive initial delay, in ms. Optimized: 60,000. */
  readonly tcpKeepAliveInitialDelayMs: number
  /** Largest upstream response body accepted, in bytes; larger → 502. */
  readonly maxResponseBytes: number
}

/** Trace exporters the app offers, chosen by `OTEL_TRACES_EXPORTER`. */
export const TRACE_EXPORTERS = ['otlp', 'jaeger', 'none'] as const
/** Samplers of `OTEL_TRACES_SAMPLER`. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const

/** Tracing settings from the standard OpenTelemetry variables (see `tracing.ts`). */
export interface TracingConfig {
  /** `OTEL_TRACES_EXPORTER`; default `none` (no OpenTelemetry code is loaded). */
  readonly exporter: typeof TRACE_EXPORTERS[number]
  /**
   * otlp: the traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT`
   * + `/v1/traces`; default http://localhost:4318/v1/traces). jaeger: `OTEL_EXPORTER_JAEGER_ENDPOINT`,
   * or undefined to send UDP to `jaegerAgent`.
   */
  readonly endpoint: string | undefined
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`. */
  readonly protocol: 'http/protobuf' | 'http/json'
  /** `OTEL_EXPORTER_JAEGER_AGENT_HOST` / `_PORT`; default localhost:6832. */
  readonly jaegerAgent: { readonly host: string, readonly port: number }
  /** `OTEL_TRACES_SAMPLER`; default `parentbased_always_on`, so the app follows the caller's decision. */
  readonly sampler: typeof TRACE_SAMPLERS[number]
  /** `OTEL_TRACES_SAMPLER_ARG`, 0–1, for the ratio samplers; default 1. */
  readonly samplerArg: number
}

/** The validated, frozen configuration `buildApp` and `main.ts` take. */
export interface DemoConfig {
  readonly profile: DemoProfile
  /** Port `main.ts` listens on (`PORT`, default 8000). */
  readonly port: number
  /** Address `main.ts` binds (`HOST`, default 127.0.0.1; the container image sets 0.0.0.0). */
  readonly host: string
  /** `DATABASE_URL`; `undefined` means `main.ts` starts the embedded database. */
  readonly databaseUrl: string | undefined
  /** PGlite data directory for the embedded database (`EMBEDDED_DB_DIR`); unset = in memory. */
  readonly embeddedDbDir: string | undefined
  /** `service.name` in the stats document (`OTEL_SERVICE_NAME`, default `demo-app`). */
  readonly serviceName: string
  readonly logLevel: LogLevel
  /** Rows the seed step inserts when the catalogue is empty (`SEED_ROWS`, default 10,000; 0 = none). */
  readonly seedRows: number
  /** Largest request body accepted, in bytes (`BODY_LIMIT_BYTES`, default 65,536); larger → 413. */
  readonly bodyLimitBytes: number
  /** Hard deadline for a graceful shutdown, in ms (`SHUTDOWN_TIMEOUT_MS`, default 10,000). */
  readonly shutdownTimeoutMs: number
  readonly db: DbPoolConfig
  readonly cache: CacheConfig
  readonly upstream: UpstreamConfig
  readonly tracing: TracingConfig
  /** Variables that look like the app's own but are unknown, each with the nearest known name. */
  readonly warnings: readonly string[]
}

/** Overrides for facts about the machine, so tests can pin them. */
export interface LoadDemoConfigOptions {
  /** CPU cores used to size the optimized pool; defaults to `os.availableParallelism()`. */
  readonly cores?: number
}

const INT_MAX = 2_147_483_647

/** An environment variable holding a whole number between `min` and `max`. */
function intVar (min: number, max: number) {
  return z.string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
}

const ENV_SCHEMAS = {
  DEMO_PROFILE: z.enum(DEMO_PROFILES, `must be one of ${DEMO_PROFILES.join(', ')}`),
  PORT: intVar(0, 65535),
  HOST: z.string().min(1, 'must not be empty'),
  DATABASE_URL: z.string().refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL'),
  EMBEDDED_DB_DIR: z.string().min(1, 'must not be empty'),
  UPSTREAM_URL: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
  OTEL_SERVICE_NAME: z.string().regex(/^[\w.-]{1,128}$/, 'must be 1-128 letters, digits, _ . or -'),
  LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`),
  SEED_ROWS: intVar(0, 10_000_000),
  BODY_LIMIT_BYTES: intVar(1024, 16 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: intVar(100, 600_000),
  DB_POOL_MAX: intVar(1, 1000),
  DB_POOL_MIN: intVar(0, 1000),
  DB_ACQUIRE_TIMEOUT_MS: intVar(1, 600_000),
  DB_IDLE_TIMEOUT_MS: intVar(0, INT_MAX),
  DB_MAX_LIFETIME_SECONDS: intVar(0, 31 * 24 * 3600),
  DB_HEALTH_TIMEOUT_MS: intVar(1, 60_000),
  DB_STATEMENT_TIMEOUT_MS: intVar(0, INT_MAX),
  CACHE_MAX_ENTRIES: intVar(0, 10_000_000),
  CACHE_MAX_BYTES: intVar(1024, 4 * 1024 * 1024 * 1024),
  CACHE_TTL_MS: intVar(1, INT_MAX),
  UPSTREAM_TIMEOUT_MS: intVar(1, 600_000),
  UPSTREAM_CONNECTIONS: intVar(1, 10_000),
  UPSTREAM_KEEPALIVE_TIMEOUT_MS: intVar(1, 600_000),
  UPSTREAM_MAX_RESPONSE_BYTES: intVar(1024, 256 * 1024 * 1024),
  OTEL_TRACES_EXPORTER: z.enum(TRACE_EXPORTERS, `must be one of ${TRACE_EXPORTERS.join(', ')}`),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json'], 'must be http/protobuf or http/json (gRPC is not offered)'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json'], 'must be http/protobuf or http/json (gRPC is not offered)'),
  OTEL_EXPORTER_JAEGER_ENDPOINT: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
  OTEL_EXPORTER_JAEGER_AGENT_HOST: z.string().min(1, 'must not be empty'),
  OTEL_EXPORTER_JAEGER_AGENT_PORT: intVar(1, 65535),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS, `must be one of ${TRACE_SAMPLERS.join(', ')}`),
  OTEL_TRACES_SAMPLER_ARG: z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'must be a ratio from 0 to 1').transform(Number)
} as const

type EnvName = keyof typeof ENV_SCHEMAS
type EnvValues = { [K in EnvName]?: z.output<typeof ENV_SCHEMAS[K]> }

/** Variables read by other parts of the product (the upstream, `npm start`), so a shared environment raises no warning. */
const OTHER_KNOWN = new Set(['UPSTREAM_LATENCY_MS', 'UPSTREAM_PORT'])
/** Prefixes of the app's own variables: an unknown name with one of these is probably a typo. */
const OWN_PREFIXES = ['DEMO_', 'DB_', 'CACHE_', 'UPSTREAM_', 'SEED_', 'EMBEDDED_DB_']

function isPostgresUrl (value: string): boolean {
  return URL.canParse(value) && ['postgres:', 'postgresql:'].includes(new URL(value).protocol)
}

function isHttpUrl (value: string): boolean {
  return URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol)
}

/** Shows a value in an error message without leaking a password from a URL. */
function shown (name: EnvName, value: string): string {
  if (name === 'DATABASE_URL' && URL.canParse(value)) {
    const url = new URL(value)
    if (url.password !== '') url.password = '***'
    return JSON.stringify(url.href)
  }
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}

function levenshtein (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function nearestKnown (name: string): string {
  const names = Object.keys(ENV_SCHEMAS)
  return names.reduce((best, candidate) => levenshtein(name, candidate) < levenshtein(name, best) ? candidate : best, names[0] ?? '')
}

/**
 * Reads and validates the demo app's environment. Empty strings count as unset.
 * @param env usually `process.env`; tests pass a plain object.
 * @throws DemoAppError `DEMO_ERR_CONFIG_INVALID` naming every bad variable and its value.
 */
export function loadDemoConfig (env: Readonly<Record<string, string | undefined>>, options: LoadDemoConfigOptions = {}): DemoConfig {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const name of Object.keys(ENV_SCHEMAS) as EnvName[]) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const result = ENV_SCHEMAS[name].safeParse(raw)
    if (result.success) values[name] = result.data
    else problems.push(`${name} ${result.error.issues[0]?.message ?? 'is invalid'}, got ${shown(name, raw)}`)
  }
  const v = values as EnvValues

  const warnings: string[] = []
  for (const name of Object.keys(env)) {
    if (name in ENV_SCHEMAS || OTHER_KNOWN.has(name)) continue
    if (OWN_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      warnings.push(`unknown variable ${name} is ignored; did you mean ${nearestKnown(name)}?`)
    }
  }

  const cores = Math.max(1, options.cores ?? availableParallelism())
  const profile: DemoProfile = v.DEMO_PROFILE ?? 'optimized'
  const optimized = profile === 'optimized'

  const max = v.DB_POOL_MAX ?? (optimized ? 4 * cores : 10)
  const min = v.DB_POOL_MIN ?? (optimized ? Math.min(cores, max) : 0)
  if (min > max) problems.push(`DB_POOL_MIN must not exceed the pool max (${max}), got ${min}`)

  if (problems.length > 0) {
    throw new DemoAppError('DEMO_ERR_CONFIG_INVALID', `invalid demo-app environment: ${problems.join('; ')}`)
  }

  const config: DemoConfig = {
    profile,
    port: v.PORT ?? 8000,
    host: v.HOST ?? '127.0.0.1',
    databaseUrl: v.DATABASE_URL,
    embeddedDbDir: v.EMBEDDED_DB_DIR,
    serviceName: v.OTEL_SERVICE_NAME ?? 'demo-app',
    logLevel: v.LOG_LEVEL ?? 'info',
    seedRows: v.SEED_ROWS ?? 10_000,
    bodyLimitBytes: v.BODY_LIMIT_BYTES ?? 64 * 1024,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    db: Object.freeze({
      max,
      min,
      acquireTimeoutMs: v.DB_ACQUIRE_TIMEOUT_MS ?? 10_000,
      idleTimeoutMs: v.DB_IDLE_TIMEOUT_MS ?? (optimized ? 600_000 : 10_000),
      maxLifetimeSeconds: v.DB_MAX_LIFETIME_SECONDS ?? (optimized ? 1800 : 0),
      statementTimeoutMs: v.DB_STATEMENT_TIMEOUT_MS ?? 10_000,
      healthTimeoutMs: v.DB_HEALTH_TIMEOUT_MS ?? 2000
    }),
    cache: Object.freeze({
      maxEntries: v.CACHE_MAX_ENTRIES ?? (optimized ? 10_000 : 0),
      maxBytes: v.CACHE_MAX_BYTES ?? 16 * 1024 * 1024,
      ttlMs: v.CACHE_TTL_MS ?? 300_000
    }),
    upstream: Object.freeze({
      url: v.UPSTREAM_URL ?? 'http://127.0.0.1:8081',
      timeoutMs: v.UPSTREAM_TIMEOUT_MS ?? 10_000,
      connections: v.UPSTREAM_CONNECTIONS ?? (optimized ? 20 : null),
      reuseConnections: optimized,
      keepAliveTimeoutMs: v.UPSTREAM_KEEPALIVE_TIMEOUT_MS ?? (optimized ? 30_000 : 4000),
      tcpKeepAliveInitialDelayMs: 60_000,
      maxResponseBytes: v.UPSTREAM_MAX_RESPONSE_BYTES ?? 1024 * 1024
    }),
    tracing: Object.freeze({
      exporter: v.OTEL_TRACES_EXPORTER ?? 'none',
      endpoint: v.OTEL_TRACES_EXPORTER === 'jaeger'
        ? v.OTEL_EXPORTER_JAEGER_ENDPOINT
        : v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
          (v.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? 'http://localhost:4318/v1/traces' : `${v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`),
      protocol: v.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? v.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      jaegerAgent: Object.freeze({ host: v.OTEL_EXPORTER_JAEGER_AGENT_HOST ?? 'localhost', port: v.OTEL_EXPORTER_JAEGER_AGENT_PORT ?? 6832 }),
      sampler: v.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
      samplerArg: v.OTEL_TRACES_SAMPLER_ARG ?? 1
    }),
    warnings: Object.freeze(warnings)
  }
  return Object.freeze(config)
}
