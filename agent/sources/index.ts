/**
 * Turns the validated configuration into source objects: one per probe, plus a stats source and a
 * process source per target where configured. The one place that maps config keys onto source options.
 */
import type { AgentConfig, ProbeConfig, TargetConfig } from '../config/index.ts'
import type { Source } from '../types.ts'
import { HttpProbe } from './http-probe.ts'
import { PostgresProbe } from './postgres-probe.ts'
import { ProcessSource, type ProcessSelector } from './process-source.ts'
import { StatsSource } from './stats-source.ts'
import { TcpProbe } from './tcp-probe.ts'

/** What sources need from the process around them. */
export interface SourceDeps {
  /** The agent's own pid, never selected as the target process. */
  selfPid: number
}

/** Builds every source the configuration declares; opens no connection. */
export function createSources (config: AgentConfig, _deps: SourceDeps): Source[] {
  const sources: Source[] = []
  for (const target of config.targets) {
    if (target.stats !== undefined) {
      sources.push(new StatsSource({
        target: target.name,
        url: target.stats.url,
        headers: target.stats.headers,
        format: target.stats.format,
        mappings: target.stats.mappings,
        intervalSeconds: target.stats.interval,
        timeoutSeconds: target.stats.timeout,
        bodyLimitBytes: config.limits.bodyBytes,
        seriesLimit: config.limits.seriesPerTarget
      }))
    }
    for (const probe of target.probes) {
      sources.push(createProbe(target, probe, config))
    }
    if (target.process !== undefined) {
      sources.push(new ProcessSource({
        target: target.name,
        selector: processSelector(target.process),
        intervalSeconds: target.process.interval,
        timeoutSeconds: target.process.timeout
      }))
    }
  }
  return sources
}

function createProbe (target: TargetConfig, probe: ProbeConfig, config: AgentConfig): Source {
  const common = { target: target.name, name: probe.name, intervalSeconds: probe.interval, timeoutSeconds: probe.timeout }
  switch (probe.kind) {
    case 'http': {
      const { http } = probe
      return new HttpProbe({
        ...common,
        url: http.url,
        method: http.method,
        headers: http.headers,
        expectStatus: http.expectStatus,
        bodyRegex: http.bodyRegex === undefined ? undefined : new RegExp(http.bodyRegex),
        jsonEquals: http.jsonEquals,
        tls: { insecureSkipVerify: http.tls.insecureSkipVerify, ca: http.tls.ca },
        followRedirects: http.followRedirects,
        bodyLimitBytes: config.limits.bodyBytes
      })
    }
    case 'tcp':
      return new TcpProbe({ ...common, host: probe.tcp.host, port: probe.tcp.port, send: probe.tcp.send, expect: probe.tcp.expect })
    case 'postgres': {
      const { host, port, user, password, database, query } = probe.postgres
      return new PostgresProbe({ ...common, connection: { host, port, user, password, database }, query })
    }
  }
}

function processSelector (config: NonNullable<TargetConfig['process']>): ProcessSelector {
  if (config.port !== undefined) return { port: config.port }
  if (config.pid !== undefined) return { pid: config.pid }
  if (config.pidfile !== undefined) return { pidfile: config.pidfile }
  return { cmdline: new RegExp(config.cmdline as string) }
}
