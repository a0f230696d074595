/**
 * The configuration file's schema: one zod schema that validates, applies defaults, converts
 * durations to seconds, resolves file paths and reads secret files. The editor JSON Schema in
 * docs/schemas/ is generated from it, and `AgentConfig` is its output type.
 */
import { z } from 'zod'
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.ts'
import { parseHostPort } from './listen-address.ts'
import type { HostPort } from './listen-address.ts'
import { formatConfigPath } from './config-problem.ts'
import { describeValue } from './describe-value.ts'
import { redactUrl } from './redact-config.ts'
import { validateMappings } from '../sources/json-mapping.ts'
import { jaegerAgentAddress, OTLP_PROTOCOLS, resolveTracingSettings, TRACE_EXPORTERS, TRACE_SAMPLERS } from './tracing-settings.ts'
import type { TracingFileSettings, TracingSettings } from './tracing-settings.ts'

/**
 * File access the schema needs; the loader supplies the real one, bound to the config file's folder.
 */
export interface ConfigFileAccess {
  /** The absolute path of a path written in the config (relative paths are from the config file's folder). */
  resolve (path: string): string
  /** The contents of a secret file without its trailing newline; throws an error with a readable message. */
  readSecret (absolutePath: string): Promise<string>
  /** The contents of a PEM file (certificate, key, CA bundle); throws an error with a readable message. */
  readPem (absolutePath: string): Promise<string>
}

/** Default run period of every source, in seconds. */
export const DEFAULT_INTERVAL_SECONDS = 15
/** Default deadline of one run of a source, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 5
/** Default address of the agent's HTTP server. */
export const DEFAULT_LISTEN = '127.0.0.1:9465'
/** Default cap on a response body read from a target, in bytes (1 MiB). */
export const DEFAULT_BODY_BYTES = 1_048_576
/** Default cap on the series one target may produce. */
export const DEFAULT_SERIES_PER_TARGET = 10_000
/** Paths served without authentication unless `server.auth.openPaths` says otherwise. */
export const DEFAULT_OPEN_PATHS: readonly string[] = ['/healthz', '/readyz']

const NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Cross-field checks must run even when a sibling field is invalid, so every problem shows at once. */
const always = { when: () => true }

type Ctx = z.RefinementCtx

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function present (value: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((key) => value[key] !== undefined)
}

/** Adds an issue unless exactly one of `keys` is set; `what` names the object in the message. */
function requireExactlyOne (value: unknown, ctx: Ctx, keys: readonly string[], what: string): void {
  if (!isRecord(value)) return
  const set = present(value, keys)
  const list = keys.map((key) => `\`${key}\``).join(', ')
  if (set.length === 0) {
    ctx.addIssue({ code: 'custom', message: `${what} needs exactly one of ${list}; none is set`, path: [] })
  } else if (set.length > 1) {
    ctx.addIssue({ code: 'custom', message: `${what} needs exactly one of ${list}; found ${set.map((key) => `\`${key}\``).join(' and ')}`, path: [set[1] as string] })
  }
}

const duration = z.union([
  z.string()
    .regex(DURATION_PATTERN, { abort: true, error: (issue) => `\`${String(issue.input)}\` is not a duration; write 500ms, 15s, 2m, 1h or a number of seconds` })
    .refine((text) => parseDuration(text) !== undefined, { error: (issue) => `duration \`${String(issue.input)}\` must be above zero` }),
  z.number().positive({ error: (issue) => `duration ${String(issue.input)} must be above zero (a number of seconds)` })
], { error: (issue) => `expected a duration such as 500ms, 15s, 2m, 1h or a number of seconds, got ${describeValue(issue.input)}` })
  .transform((value) => parseDuration(value) as number)
  .meta({ id: 'duration', description: 'A duration: "500ms", "15s", "2m", "1h", or a number of seconds.' })

const name = (what: string): z.ZodString => z.string().regex(NAME_PATTERN, {
  error: (issue) => `${what} name \`${String(issue.input)}\` must start with a letter or \`_\` and hold only letters, digits, \`_\`, \`.\` and \`-\``
})

function isUrlWith (text: string, protocols: readonly string[]): boolean {
  try {
    const url = new URL(text)
    return protocols.includes(url.protocol) && url.hostname !== ''
  } catch {
    return false
  }
}

const httpUrl = z.string().refine((text) => isUrlWith(text, ['http:', 'https:']), {
  error: (issue) => `\`${redactUrl(String(issue.input))}\` is not an http:// or https:// URL`
})

const postgresUrl = z.string().refine((text) => isUrlWith(text, ['postgres:', 'postgresql:']), {
  error: (issue) => `\`${redactUrl(String(issue.input))}\` is not a postgres:// or postgresql:// URL`
})

const regexSource = z.string().superRefine((text, ctx) => {
  try {
    new RegExp(text)
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
    ctx.addIssue({ code: 'custom', message: `\`${text}\` is not a valid regular expression: ${reason}` })
  }
})

const jsonPath = z.string().regex(/^\$/, { error: (issue) => `\`${String(issue.input)}\` is not a JSONPath; it must start with \`$\`` })

const hostPort = z.string().superRefine((text, ctx) => {
  const parsed = parseHostPort(text)
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error })
})

const port = z.int().min(1).max(65535)

const headers = z.record(z.string(), z.string()).describe('HTTP request headers, name to value.')

/**
 * Builds the schema bound to `files`. The loader calls it once per load with file access relative
 * to the config file; {@link configSchema} is an instance without file access, for types and JSON Schema.
 */
export function createConfigSchema (files: ConfigFileAccess) {
  const filePath = z.string().min(1).transform((path) => files.resolve(path))

  /**
   * Reads a secret or PEM file named in the config. On failure reports the problem at `key` and
   * returns `null`, for the caller to return `z.NEVER`.
   */
  async function readNamedFile (kind: 'secret' | 'pem', path: string, key: string, ctx: Ctx): Promise<{ path: string, text: string } | null> {
    const absolute = files.resolve(path)
    try {
      return { path: absolute, text: kind === 'secret' ? await files.readSecret(absolute) : await files.readPem(absolute) }
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, path: [key] })
      return null
    }
  }

  const bearer = z.strictObject({
    token: z.string().min(1).optional().describe('The token clients must send as `Authorization: Bearer <token>`.'),
    tokenFile: z.string().min(1).optional().describe('A file holding the token (trailing newline ignored).')
  })
    .superRefine((value, ctx) => { requireExactlyOne(value, ctx, ['token', 'tokenFile'], 'bearer auth') }, always)
    .transform(async (value, ctx): Promise<{ token: string, tokenFile?: string }> => {
      if (value.tokenFile === undefined) return { token: value.token as string }
      const file = await readNamedFile('secret', value.tokenFile, 'tokenFile', ctx)
      return file === null ? z.NEVER : { tokenFile: file.path, token: file.text }
    })

  const basic = z.strictObject({
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional().describe('A file holding the password (trailing newline ignored).')
  })
    .superRefine((value, ctx) => { requireExactlyOne(value, ctx, ['password', 'passwordFile'], 'basic auth') }, always)
    .transform(async (value, ctx): Promise<{ username: string, password: string, passwordFile?: string }> => {
      if (value.passwordFile === undefined) return { username: value.username, password: value.password as string }
      const file = await readNamedFile('secret', value.passwordFile, 'passwordFile', ctx)
      return file === null ? z.NEVER : { username: value.username, passwordFile: file.path, password: file.text }
    })

  const auth = z.strictObject({
    bearer: bearer.optional(),
    basic: basic.optional(),
    openPaths: z.array(z.string().regex(/^\//, { error: (issue) => `\`${String(issue.input)}\` is not a path; it must start with \`/\`` }))
      .default([...DEFAULT_OPEN_PATHS])
      .describe('Paths served without authentication.')
  }).superRefine((value, ctx) => { requireExactlyOne(value, ctx, ['bearer', 'basic'], 'server.auth') }, always)

  const server = z.strictObject({
    listen: hostPort.default(DEFAULT_LISTEN).describe('HOST:PORT the agent serves /metrics and its API on. OUTRIGGER_LISTEN and --listen override it.'),
    auth: auth.optional().describe('Authentication for the agent\'s HTTP server: exactly one of `bearer` or `basic`.'),
    tls: z.strictObject({
      certFile: z.string().min(1).describe('PEM certificate chain.'),
      keyFile: z.string().min(1).describe('PEM private key.')
    }).transform(async (value, ctx) => {
      const cert = await readNamedFile('pem', value.certFile, 'certFile', ctx)
      const key = await readNamedFile('pem', value.keyFile, 'keyFile', ctx)
      return cert === null || key === null ? z.NEVER : { certFile: cert.path, keyFile: key.path, cert: cert.text, key: key.text }
    }).optional().describe('Serve HTTPS instead of HTTP.')
  })

  const sourceTiming = {
    interval: duration.optional().describe('How often this source runs; defaults to `defaults.interval`.'),
    timeout: duration.optional().describe('Deadline of one run; defaults to `defaults.timeout`; must be below the interval.')
  }

  // The shape only; the rules' own checks (metric and label names, JSONPath, duplicates) live with
  // the mapping engine in validateMappings, and run in `stats` below with this file's positions.
  const mapping = z.strictObject({
    name: z.string().min(1).describe('Metric name; `app_` is prefixed unless already there, and counters get `_total`.'),
    help: z.string().optional().describe('The metric\'s HELP text; state the unit.'),
    type: z.enum(['gauge', 'counter']),
    path: z.string().describe('JSONPath selecting the elements (with `value`) or the values themselves.'),
    value: z.string().optional().describe('JSONPath of the value inside each element selected by `path`.'),
    labels: z.record(z.string(), z.string()).optional()
      .describe('Label name to a JSONPath relative to the element (`$...`), `@key`, or a literal value.'),
    valueMap: z.record(z.string(), z.number()).optional().describe('Maps string values to numbers, e.g. { up: 1, down: 0 }.')
  })

  const stats = z.strictObject({
    url: httpUrl.describe('URL of the application\'s stats document.'),
    ...sourceTiming,
    headers: headers.default({}),
    format: z.enum(['contract', 'mapping']).default('contract').describe('`contract`: the outrigger.stats/v1 document; `mapping`: any JSON, read with `mappings`.'),
    mappings: z.array(mapping).optional().describe('Rules turning arbitrary JSON into metrics; required with `format: mapping`.')
  }).superRefine((value, ctx) => {
    if (!isRecord(value)) return
    const format = value.format ?? 'contract'
    if (format === 'mapping' && (!Array.isArray(value.mappings) || value.mappings.length === 0)) {
      ctx.addIssue({ code: 'custom', message: '`format: mapping` needs at least one entry in `mappings`', path: Array.isArray(value.mappings) ? ['mappings'] : ['format'] })
    }
    if (format === 'contract' && value.mappings !== undefined) {
      ctx.addIssue({ code: 'custom', message: '`mappings` apply only with `format: mapping`; set `format: mapping` or remove them', path: ['mappings'] })
    }
    if (Array.isArray(value.mappings)) {
      // Only rules of the right shape: the shape's own issues are reported already.
      const indexes = value.mappings.flatMap((rule, index) => mapping.safeParse(rule).success ? [index] : [])
      const rules = value.mappings
      for (const problem of validateMappings(indexes.map((index) => rules[index]))) {
        const field = problem.field === '(rule)' ? [] : problem.field.split(/\.(.*)/s).filter((part) => part !== '')
        ctx.addIssue({ code: 'custom', message: problem.message, path: ['mappings', indexes[problem.index] ?? problem.index, ...field] })
      }
    }
  }, always).transform((value) => ({ ...value, mappings: value.mappings ?? [] }))

  const httpProbe = z.strictObject({
    url: httpUrl,
    method: z.enum(HTTP_METHODS).default('GET'),
    headers: headers.default({}),
    expectStatus: z.array(z.int().min(100).max(599)).min(1).optional().describe('Status codes counted as success; default: any 2xx.'),
    bodyRegex: regexSource.optional().describe('A regular expression the body must match.'),
    jsonEquals: z.strictObject({
      path: jsonPath,
      value: z.union([z.string(), z.number(), z.boolean(), z.null()])
    }).optional().describe('The JSON body must hold `value` at `path`.'),
    tls: z.strictObject({
      insecureSkipVerify: z.boolean().default(false).describe('Accept any certificate. For testing only.'),
      caFile: z.string().min(1).optional().describe('PEM CA bundle trusted instead of the system roots.')
    }).transform(async (value, ctx): Promise<{ insecureSkipVerify: boolean, caFile?: string, ca?: string }> => {
      if (value.caFile === undefined) return { insecureSkipVerify: value.insecureSkipVerify }
      const file = await readNamedFile('pem', value.caFile, 'caFile', ctx)
      return file === null ? z.NEVER : { insecureSkipVerify: value.insecureSkipVerify, caFile: file.path, ca: file.text }
    }).prefault({}),
    followRedirects: z.boolean().default(true).describe('Follow up to 10 redirects.')
  })

  const tcpProbe = z.strictObject({
    address: hostPort.describe('HOST:PORT to connect to.'),
    send: z.string().optional().describe('Text sent once connected (add `\\n` yourself when the protocol wants a line).'),
    expect: regexSource.optional().describe('A regular expression the reply must match.')
  }).transform((value) => ({ ...value, ...(parseHostPort(value.address) as HostPort) }))

  const postgresProbe = z.strictObject({
    url: postgresUrl.optional().describe('postgres://user:password@host:port/database; or give host, port, user, password, database.'),
    host: z.string().min(1).optional(),
    port: port.optional().describe('Default 5432.'),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    passwordFile: z.string().min(1).optional().describe('A file holding the password (trailing newline ignored).'),
    database: z.string().min(1).optional().describe('Default: the user name.'),
    query: z.string().min(1).default('SELECT 1').describe('The query to run; success means it returned.')
  }).superRefine((value, ctx) => {
    if (!isRecord(value)) return
    const parts = present(value, ['host', 'port', 'user', 'password', 'database'])
    if (value.url !== undefined && parts.length > 0) {
      ctx.addIssue({ code: 'custom', message: `give either \`url\` or host/port/user/password/database, not both; found \`url\` and \`${parts[0] ?? ''}\``, path: [parts[0] ?? 'url'] })
    } else if (value.url === undefined) {
      if (value.host === undefined) ctx.addIssue({ code: 'custom', message: 'a postgres probe needs `url`, or `host` and `user`', path: [] })
      else if (value.user === undefined) ctx.addIssue({ code: 'custom', message: 'a postgres probe needs `user` along with `host`', path: [] })
    } else if (typeof value.url === 'string' && isUrlWith(value.url, ['postgres:', 'postgresql:']) && new URL(value.url).username === '') {
      ctx.addIssue({ code: 'custom', message: `\`${redactUrl(value.url)}\` names no user; write postgres://USER@HOST/DATABASE`, path: ['url'] })
    }
    if (value.passwordFile !== undefined && (value.password !== undefined || (typeof value.url === 'string' && URL.canParse(value.url) && new URL(value.url).password !== ''))) {
      ctx.addIssue({ code: 'custom', message: 'give the password once: in `passwordFile`, or in `password` / the URL', path: ['passwordFile'] })
    }
  }, always).transform(async (value, ctx) => {
    if (value.passwordFile === undefined) return { ...value, ...postgresConnection(value) }
    const file = await readNamedFile('secret', value.passwordFile, 'passwordFile', ctx)
    return file === null ? z.NEVER : { ...value, ...postgresConnection({ ...value, password: file.text }), passwordFile: file.path }
  })

  const probe = z.strictObject({
    name: name('probe'),
    ...sourceTiming,
    http: httpProbe.optional(),
    tcp: tcpProbe.optional(),
    postgres: postgresProbe.optional()
  }).superRefine((value, ctx) => { requireExactlyOne(value, ctx, ['http', 'tcp', 'postgres'], `probe${isRecord(value) && typeof value.name === 'string' ? ` \`${value.name}\`` : ''}`) }, always)
    .transform((value) => {
      const common = { name: value.name, interval: value.interval, timeout: value.timeout }
      if (value.http !== undefined) return { ...common, kind: 'http' as const, http: value.http }
      if (value.tcp !== undefined) return { ...common, kind: 'tcp' as const, tcp: value.tcp }
      return { ...common, kind: 'postgres' as const, postgres: value.postgres as NonNullable<typeof value.postgres> }
    })

  const processSource = z.strictObject({
    port: port.optional().describe('Select the process listening on this TCP port.'),
    pid: z.int().positive().optional(),
    pidfile: filePath.optional().describe('A file holding the pid; re-read when the process goes away.'),
    cmdline: regexSource.optional().describe('A regular expression matched against the command line.'),
    ...sourceTiming
  }).superRefine((value, ctx) => { requireExactlyOne(value, ctx, ['port', 'pid', 'pidfile', 'cmdline'], 'process') }, always)

  const target = z.strictObject({
    name: name('target'),
    stats: stats.optional().describe('Read the application\'s own statistics.'),
    probes: z.array(probe).default([]).describe('Health probes: each exactly one of `http`, `tcp` or `postgres`.'),
    process: processSource.optional().describe('Observe the target\'s process: exactly one of `port`, `pid`, `pidfile`, `cmdline`.')
  }).superRefine((value, ctx) => {
    if (!isRecord(value)) return
    if (Array.isArray(value.probes)) {
      reportDuplicates(value.probes, (entry) => isRecord(entry) && typeof entry.name === 'string' ? entry.name : undefined, 'probe', ['probes'], ' of this target', ctx)
    }
    if (value.stats === undefined && value.process === undefined && (!Array.isArray(value.probes) || value.probes.length === 0)) {
      ctx.addIssue({ code: 'custom', message: `target${typeof value.name === 'string' ? ` \`${value.name}\`` : ''} observes nothing; give it \`stats\`, \`probes\` or \`process\``, path: [] })
    }
  }, always)

  const defaults = z.strictObject({
    interval: duration.prefault(`${DEFAULT_INTERVAL_SECONDS}s`).describe('Run period of every source unless it sets its own.'),
    timeout: duration.prefault(`${DEFAULT_TIMEOUT_SECONDS}s`).describe('Deadline of one run unless the source sets its own.')
  }).superRefine((value, ctx) => {
    if (typeof value?.interval === 'number' && typeof value.timeout === 'number' && value.timeout >= value.interval) {
      ctx.addIssue({ code: 'custom', message: `timeout ${formatDuration(value.timeout)} must be below interval ${formatDuration(value.interval)} for defaults`, path: ['timeout'] })
    }
  }, always)

  const limits = z.strictObject({
    bodyBytes: z.int().positive().default(DEFAULT_BODY_BYTES).describe('Largest response body read from a target, in bytes.'),
    seriesPerTarget: z.int().positive().default(DEFAULT_SERIES_PER_TARGET).describe('Most series one target may produce; beyond it the scrape fails with reason too_many_series.')
  })

  const tracing = z.strictObject({
    exporter: z.enum(TRACE_EXPORTERS).default('none').describe('Where spans go: `otlp` (OTLP over HTTP), `jaeger` (Jaeger thrift) or `none`. OTEL_TRACES_EXPORTER wins.'),
    endpoint: httpUrl.optional()
      .describe('otlp: the collector\'s base URL (`/v1/traces` is appended) or its full traces URL; default http://localhost:4318/v1/traces. jaeger: the collector\'s HTTP URL (http://jaeger:14268/api/traces); without it spans go over UDP to `jaegerAgent`.'),
    protocol: z.enum(OTLP_PROTOCOLS).default('http/protobuf').describe('OTLP encoding. OTEL_EXPORTER_OTLP_PROTOCOL wins.'),
    jaegerAgent: hostPort.optional().describe('HOST:PORT of the Jaeger agent for UDP (binary thrift); default localhost:6832.'),
    serviceName: z.string().min(1).default('outrigger').describe('`service.name` of the agent\'s spans. OTEL_SERVICE_NAME wins.'),
    sampler: z.enum(TRACE_SAMPLERS).default('parentbased_always_on').describe('The OpenTelemetry sampler. OTEL_TRACES_SAMPLER wins.'),
    samplerArg: z.number().min(0).max(1).optional().describe('Sampling ratio for the traceidratio samplers, 0 to 1.')
  }).transform((value): TracingSettings => {
    const file: TracingFileSettings = { ...value, jaegerAgent: value.jaegerAgent === undefined ? undefined : jaegerAgentAddress(value.jaegerAgent) }
    // Defaults that depend on the exporter are filled here; the loader lays the environment over them.
    return resolveTracingSettings(file, {}).settings
  })

  return z.strictObject({
    server: server.prefault({}),
    defaults: defaults.prefault({}),
    limits: limits.prefault({}),
    tracing: tracing.prefault({}),
    targets: z.array(target).min(1, { error: 'at least one target is required' }).describe('The applications to observe; names unique.')
  }).superRefine((value, ctx) => {
    if (!isRecord(value) || !Array.isArray(value.targets)) return
    reportDuplicates(value.targets, (entry) => isRecord(entry) && typeof entry.name === 'string' ? entry.name : undefined, 'target', ['targets'], '', ctx)
    checkTimeouts(value, ctx)
  }, always).transform(({ server, defaults, limits, tracing, targets }) => ({
    server,
    defaults,
    limits,
    tracing,
    targets: targets.map((entry) => {
      const timing = <T extends { interval?: number | undefined, timeout?: number | undefined }>(source: T): T & { interval: number, timeout: number } =>
        ({ ...source, ...resolveTiming(source, defaults) })
      return {
        ...entry,
        stats: entry.stats === undefined ? undefined : timing(entry.stats),
        probes: entry.probes.map(timing),
        process: entry.process === undefined ? undefined : timing(entry.process)
      }
    })
  })).describe('Configuration of the Outrigger agent: the targets to observe, and how the agent serves what it sees.')
}

/**
 * The connection a postgres probe uses, from its URL or its parts: host, port (default 5432), user,
 * password (may be absent), database (default the user name).
 */
function postgresConnection (value: { url?: string | undefined, host?: string | undefined, port?: number | undefined, user?: string | undefined, password?: string | undefined, database?: string | undefined }): { host: string, port: number, user: string, password: string | undefined, database: string } {
  if (value.url !== undefined) {
    const url = new URL(value.url)
    const user = decodeURIComponent(url.username)
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 5432 : Number(url.port),
      user,
      password: value.password ?? (url.password === '' ? undefined : decodeURIComponent(url.password)),
      database: database === '' ? user : database
    }
  }
  const user = value.user ?? ''
  return { host: value.host ?? '', port: value.port ?? 5432, user, password: value.password, database: value.database ?? user }
}

/** Reports every entry whose name repeats an earlier one, at the later entry's `name`. */
function reportDuplicates (entries: unknown[], nameOf: (entry: unknown) => string | undefined, what: string, path: Array<string | number>, scope: string, ctx: Ctx): void {
  const first = new Map<string, number>()
  entries.forEach((entry, index) => {
    const entryName = nameOf(entry)
    if (entryName === undefined) return
    const earlier = first.get(entryName)
    if (earlier === undefined) first.set(entryName, index)
    else ctx.addIssue({ code: 'custom', message: `duplicate ${what} name \`${entryName}\`: already used by ${formatConfigPath([...path, earlier])}${scope}`, path: [...path, index, 'name'] })
  })
}

/**
 * A source's interval and timeout with defaults applied. A source that sets only its interval
 * inherits the default timeout capped at half that interval, so a short interval alone is valid.
 */
export function resolveTiming (
  source: { interval?: unknown, timeout?: unknown },
  defaults: { interval: number, timeout: number }
): { interval: number, timeout: number } {
  const interval = typeof source.interval === 'number' ? source.interval : defaults.interval
  if (typeof source.timeout === 'number') return { interval, timeout: source.timeout }
  return { interval, timeout: source.interval === undefined ? defaults.timeout : Math.min(defaults.timeout, interval / 2) }
}

/**
 * Every source's timeout must be below its interval. Defaults alone are checked once, at
 * `defaults`; a source is checked when it sets its own timeout.
 */
function checkTimeouts (config: Record<string, unknown>, ctx: Ctx): void {
  const given = isRecord(config.defaults) ? config.defaults : {}
  const defaults = {
    interval: typeof given.interval === 'number' ? given.interval : DEFAULT_INTERVAL_SECONDS,
    timeout: typeof given.timeout === 'number' ? given.timeout : DEFAULT_TIMEOUT_SECONDS
  }
  const check = (source: unknown, path: Array<string | number>): void => {
    // A value still in its raw form failed its own check, which is reported already.
    if (!isRecord(source) || typeof source.timeout !== 'number') return
    if (source.interval !== undefined && typeof source.interval !== 'number') return
    const { interval, timeout } = resolveTiming(source, defaults)
    if (timeout < interval) return
    ctx.addIssue({
      code: 'custom',
      message: `timeout ${formatDuration(timeout)} must be below interval ${formatDuration(interval)} for ${formatConfigPath(path)}`,
      path: [...path, 'timeout']
    })
  }
  const targets = config.targets as unknown[]
  targets.forEach((entry, index) => {
    if (!isRecord(entry)) return
    check(entry.stats, ['targets', index, 'stats'])
    if (Array.isArray(entry.probes)) entry.probes.forEach((probe, probeIndex) => { check(probe, ['targets', index, 'probes', probeIndex]) })
    check(entry.process, ['targets', index, 'process'])
  })
}

const withoutFiles: ConfigFileAccess = {
  resolve: (path) => path,
  readSecret: async () => '',
  readPem: async () => ''
}

/** The schema without file access: for its types and the editor JSON Schema, not for loading. */
export const configSchema = createConfigSchema(withoutFiles)

/** The validated configuration: frozen, defaults applied, durations in seconds, file paths absolute, secret files read. */
export type AgentConfig = z.output<typeof configSchema>
/** What a configuration file may contain, before defaults and conversions. */
export type AgentConfigInput = z.input<typeof configSchema>
/** One target of {@link AgentConfig}. */
export type TargetConfig = AgentConfig['targets'][number]
/** One probe of a target: `kind` says which of `http`, `tcp`, `postgres` is present. */
export type ProbeConfig = TargetConfig['probes'][number]
/** The app-stats source of a target. */
export type StatsConfig = NonNullable<TargetConfig['stats']>
/** The process source of a target. */
export type ProcessConfig = NonNullable<TargetConfig['process']>
