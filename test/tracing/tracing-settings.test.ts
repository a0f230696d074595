import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, parseConfigText } from '../../agent/config/index.ts'
import { resolveTracingSettings } from '../../agent/config/tracing-settings.ts'
import type { TracingFileSettings } from '../../agent/config/tracing-settings.ts'

const file: TracingFileSettings = { exporter: 'otlp', endpoint: 'http://collector:4318', protocol: 'http/protobuf', serviceName: 'from-file', sampler: 'parentbased_always_on' }
const target = 'targets: [{ name: a, process: { pid: 1 } }]\n'

test('without OTEL_* variables the file decides; a base OTLP URL gets /v1/traces, a full one stays', () => {
  assert.deepEqual(resolveTracingSettings(file, {}), {
    settings: { exporter: 'otlp', endpoint: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', jaegerAgent: { host: 'localhost', port: 6832 }, serviceName: 'from-file', sampler: 'parentbased_always_on', samplerArg: undefined },
    problems: []
  })
  assert.equal(resolveTracingSettings({ ...file, endpoint: 'http://collector:4318/v1/traces' }, {}).settings.endpoint, 'http://collector:4318/v1/traces')
  assert.equal(resolveTracingSettings({ ...file, endpoint: undefined }, {}).settings.endpoint, 'http://localhost:4318/v1/traces')
})

test('the environment wins over the file, variable by variable', () => {
  const { settings, problems } = resolveTracingSettings(file, {
    OTEL_SERVICE_NAME: 'from-env',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env-collector:4318/',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25'
  })
  assert.deepEqual(problems, [])
  assert.equal(settings.serviceName, 'from-env')
  assert.equal(settings.endpoint, 'http://env-collector:4318/v1/traces')
  assert.equal(settings.protocol, 'http/json')
  assert.equal(settings.sampler, 'parentbased_traceidratio')
  assert.equal(settings.samplerArg, 0.25)
  // The signal-specific variables win over the general ones and are used as written.
  const specific = resolveTracingSettings(file, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://specific:9999/custom',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf'
  }).settings
  assert.equal(specific.endpoint, 'http://specific:9999/custom')
  assert.equal(specific.protocol, 'http/protobuf')
})

test('switching the exporter by environment drops the file\'s endpoint, which was for the other one', () => {
  const jaeger = resolveTracingSettings(file, { OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_JAEGER_AGENT_HOST: 'jaeger-agent', OTEL_EXPORTER_JAEGER_AGENT_PORT: '6831' }).settings
  assert.equal(jaeger.exporter, 'jaeger')
  assert.equal(jaeger.endpoint, undefined)
  assert.deepEqual(jaeger.jaegerAgent, { host: 'jaeger-agent', port: 6831 })
  const collector = resolveTracingSettings(file, { OTEL_TRACES_EXPORTER: 'JAEGER', OTEL_EXPORTER_JAEGER_ENDPOINT: 'http://jaeger:14268/api/traces' }).settings
  assert.equal(collector.endpoint, 'http://jaeger:14268/api/traces')
  assert.equal(resolveTracingSettings(file, { OTEL_TRACES_EXPORTER: 'none' }).settings.endpoint, undefined)
  assert.equal(resolveTracingSettings(file, { OTEL_TRACES_EXPORTER: '' }).settings.exporter, 'otlp', 'an empty variable counts as unset')
})

test('unusable values are problems naming the variable and the value', () => {
  const { problems } = resolveTracingSettings(file, {
    OTEL_TRACES_EXPORTER: 'otlp,jaeger',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318',
    OTEL_EXPORTER_JAEGER_AGENT_PORT: '70000',
    OTEL_TRACES_SAMPLER: 'jaeger_remote',
    OTEL_TRACES_SAMPLER_ARG: '1.5'
  })
  assert.deepEqual(problems.map((problem) => problem.variable), [
    'OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_JAEGER_AGENT_PORT', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'
  ])
  assert.match(problems[0]?.message ?? '', /`otlp,jaeger`.*one exporter at a time/)
  assert.match(problems[1]?.message ?? '', /`grpc`.*gRPC is not offered/)
  assert.match(problems[5]?.message ?? '', /`1\.5`/)
})

test('the loader lays the environment over the file and reports bad variables with the other problems', async () => {
  const config = await parseConfigText(`tracing: { exporter: jaeger, jaegerAgent: "agent:6832", serviceName: file }\n${target}`, { env: { OTEL_SERVICE_NAME: 'env' } })
  assert.equal(config.tracing.serviceName, 'env')
  assert.deepEqual(config.tracing.jaegerAgent, { host: 'agent', port: 6832 })
  assert.ok(Object.isFrozen(config.tracing))
  await assert.rejects(parseConfigText(`tracing: { exporter: otlp }\n${target}`, { env: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER_ARG: 'half' } }), (error: unknown) => {
    assert.ok(error instanceof ConfigError)
    assert.equal(error.code, 'OUTRIGGER_ERR_CONFIG_INVALID')
    assert.deepEqual(error.problems.map((problem) => problem.code), ['OUTRIGGER_ERR_TRACING_ENV', 'OUTRIGGER_ERR_TRACING_ENV'])
    assert.match(error.message, /OTEL_TRACES_EXPORTER `zipkin` is not one of otlp, jaeger, none/)
    return true
  })
  await assert.rejects(parseConfigText(`tracing: { exporter: otlp, protocol: grpc, jaegerAgent: nope }\n${target}`, { env: {} }), (error: unknown) => {
    assert.ok(error instanceof ConfigError)
    assert.deepEqual(error.problems.map((problem) => problem.path), ['tracing.protocol', 'tracing.jaegerAgent'])
    return true
  })
})
