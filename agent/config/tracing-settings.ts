/**
 * The tracing settings in force: the config file's `tracing` section with the standard OpenTelemetry
 * environment variables laid over it. The environment wins, as the OpenTelemetry specification
 * says, so one config file serves a laptop, compose and Kubernetes alike. A pure function of its
 * inputs: the loader calls it with the same environment it expands `${VAR}` from.
 */
import { parseHostPort } from './listen-address.ts'
import type { Environment } from './env-expansion.ts'

/** The exporters the agent offers. */
export const TRACE_EXPORTERS = ['otlp', 'jaeger', 'none'] as const
export type TraceExporterName = typeof TRACE_EXPORTERS[number]

/** The OTLP encodings the agent offers (OTLP over HTTP only; gRPC would bring a second HTTP stack). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const
export type OtlpProtocol = typeof OTLP_PROTOCOLS[number]

/** The samplers of `OTEL_TRACES_SAMPLER` the agent offers. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const
export type TraceSamplerName = typeof TRACE_SAMPLERS[number]

/** Where OTLP traces go when nothing says otherwise (the OTLP/HTTP default). */
export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces'
/** Where Jaeger thrift goes over UDP when nothing says otherwise (the agent's binary-protocol port). */
export const DEFAULT_JAEGER_AGENT = { host: 'localhost', port: 6832 } as const

/**
 * Tracing as the agent runs it. `endpoint` is resolved: for `otlp` the full traces URL (always
 * set); for `jaeger` the collector's HTTP URL, or undefined to send UDP to `jaegerAgent`.
 */
export interface TracingSettings {
  exporter: TraceExporterName
  endpoint: string | undefined
  protocol: OtlpProtocol
  jaegerAgent: { host: string, port: number }
  serviceName: string
  sampler: TraceSamplerName
  /** Ratio for the `traceidratio` samplers, 0–1; undefined means 1. */
  samplerArg: number | undefined
}

/** The `tracing` section as the config file gave it, defaults applied, before the environment. */
export interface TracingFileSettings {
  exporter: TraceExporterName
  endpoint?: string | undefined
  protocol: OtlpProtocol
  jaegerAgent?: { host: string, port: number } | undefined
  serviceName: string
  sampler: TraceSamplerName
  samplerArg?: number | undefined
}

/** One environment variable the agent cannot use: its name and what is wrong, naming the value. */
export interface TracingEnvProblem {
  variable: string
  message: string
}

/**
 * Lays the `OTEL_*` variables of `env` over `file`:
 * `OTEL_TRACES_EXPORTER`, `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) /
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended), `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` /
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_JAEGER_ENDPOINT`, `OTEL_EXPORTER_JAEGER_AGENT_HOST` /
 * `_PORT`, `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`. Empty variables count as unset.
 * The file's `endpoint` applies only while the exporter in force is the one the file names.
 * @returns the settings, and every variable that could not be used (the caller reports them all).
 */
export function resolveTracingSettings (file: TracingFileSettings, env: Environment): { settings: TracingSettings, problems: TracingEnvProblem[] } {
  const problems: TracingEnvProblem[] = []
  const read = (variable: string): string | undefined => {
    const value = env[variable]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const oneOf = <T extends string>(variable: string, allowed: readonly T[], hint = ''): T | undefined => {
    const value = read(variable)
    if (value === undefined) return undefined
    const lower = value.toLowerCase() as T
    if (allowed.includes(lower)) return lower
    problems.push({ variable, message: `${variable} \`${value}\` is not one of ${allowed.join(', ')}${hint}` })
    return undefined
  }
  const url = (variable: string): string | undefined => {
    const value = read(variable)
    if (value === undefined) return undefined
    if (isHttpUrl(value)) return value
    problems.push({ variable, message: `${variable} \`${value}\` is not an http:// or https:// URL` })
    return undefined
  }

  const exporter = oneOf('OTEL_TRACES_EXPORTER', TRACE_EXPORTERS, read('OTEL_TRACES_EXPORTER')?.includes(',') === true ? ' (the agent sends to one exporter at a time)' : '') ?? file.exporter
  const fileEndpoint = exporter === file.exporter ? file.endpoint : undefined

  const protocolHint = ' (the agent speaks OTLP over HTTP; gRPC is not offered)'
  const protocol = oneOf('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', OTLP_PROTOCOLS, protocolHint) ??
    oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, protocolHint) ??
    file.protocol

  let endpoint: string | undefined
  if (exporter === 'otlp') {
    const tracesUrl = url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    const baseUrl = url('OTEL_EXPORTER_OTLP_ENDPOINT')
    endpoint = tracesUrl ?? (baseUrl === undefined ? undefined : appendTracesPath(baseUrl)) ??
      (fileEndpoint === undefined ? undefined : otlpTracesUrl(fileEndpoint)) ?? DEFAULT_OTLP_TRACES_URL
  } else if (exporter === 'jaeger') {
    endpoint = url('OTEL_EXPORTER_JAEGER_ENDPOINT') ?? fileEndpoint
  }

  const jaegerAgent = { ...(file.jaegerAgent ?? DEFAULT_JAEGER_AGENT) }
  const agentHost = read('OTEL_EXPORTER_JAEGER_AGENT_HOST')
  if (agentHost !== undefined) jaegerAgent.host = agentHost
  const agentPort = read('OTEL_EXPORTER_JAEGER_AGENT_PORT')
  if (agentPort !== undefined) {
    const port = Number(agentPort)
    if (/^\d+$/.test(agentPort) && port >= 1 && port <= 65535) jaegerAgent.port = port
    else problems.push({ variable: 'OTEL_EXPORTER_JAEGER_AGENT_PORT', message: `OTEL_EXPORTER_JAEGER_AGENT_PORT \`${agentPort}\` is not a port between 1 and 65535` })
  }

  const sampler = oneOf('OTEL_TRACES_SAMPLER', TRACE_SAMPLERS) ?? file.sampler
  let samplerArg = file.samplerArg
  const arg = read('OTEL_TRACES_SAMPLER_ARG')
  if (arg !== undefined) {
    const ratio = Number(arg)
    if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) samplerArg = ratio
    else problems.push({ variable: 'OTEL_TRACES_SAMPLER_ARG', message: `OTEL_TRACES_SAMPLER_ARG \`${arg}\` is not a ratio between 0 and 1` })
  }

  return {
    settings: { exporter, endpoint, protocol, jaegerAgent, serviceName: read('OTEL_SERVICE_NAME') ?? file.serviceName, sampler, samplerArg },
    problems
  }
}

/**
 * The OTLP traces URL for a configured endpoint: a base URL (`http://collector:4318`) gets
 * `/v1/traces`, a URL already ending in `/v1/traces` is kept as written.
 */
export function otlpTracesUrl (endpoint: string): string {
  return /\/v1\/traces\/?$/.test(new URL(endpoint).pathname) ? endpoint : appendTracesPath(endpoint)
}

function appendTracesPath (base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/traces`
}

function isHttpUrl (text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** Parses `HOST:PORT` for `tracing.jaegerAgent`; undefined when it is not one (the schema reports it). */
export function jaegerAgentAddress (text: string): { host: string, port: number } | undefined {
  const parsed = parseHostPort(text)
  return 'error' in parsed ? undefined : parsed
}
