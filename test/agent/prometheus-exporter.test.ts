import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { formatFromAccept, mergeFamilies, PrometheusExporter } from '../../agent/exporters/prometheus.ts'
import type { MetricFamily } from '../../agent/types.ts'

const families: MetricFamily[] = [
  { name: 'app_cache_hits_total', help: 'Cache hits.', type: 'counter', samples: [{ labels: { target: 'a', cache: 'items' }, value: 5 }] },
  { name: 'probe_success', help: 'Whether the probe succeeded.', type: 'gauge', samples: [{ labels: { target: 'a', probe: 'h' }, value: 1 }] },
  {
    name: 'app_http_request_duration_seconds',
    help: 'Request duration in seconds.',
    type: 'histogram',
    samples: [{
      labels: { target: 'a', route: '/x' },
      buckets: [{ le: 0.1, count: 2 }, { le: 1, count: 3 }],
      sum: 1.5,
      count: 4,
      exemplar: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', value: 0.5, timestampSeconds: 1700000000.5 }
    }]
  }
]

test('text format: counters keep _total, histograms get buckets, +Inf, sum and count, no exemplars', async () => {
  const exporter = new PrometheusExporter()
  const { contentType, body } = await exporter.render(families, 'prometheus')
  assert.match(contentType, /^text\/plain; version=0\.0\.4/)
  assert.match(body, /^# TYPE app_cache_hits_total counter$/m)
  assert.match(body, /^app_cache_hits_total\{target="a",cache="items"\} 5$/m)
  assert.match(body, /^app_http_request_duration_seconds_bucket\{target="a",route="\/x",le="0\.1"\} 2$/m)
  assert.match(body, /^app_http_request_duration_seconds_bucket\{target="a",route="\/x",le="\+Inf"\} 4$/m)
  assert.match(body, /^app_http_request_duration_seconds_sum\{target="a",route="\/x"\} 1\.5$/m)
  assert.match(body, /^app_http_request_duration_seconds_count\{target="a",route="\/x"\} 4$/m)
  assert.doesNotMatch(body, /trace_id/)
  assert.match(body, /^process_resident_memory_bytes \d+/m, 'the agent exposes its own process metrics')
})

test('OpenMetrics: counter families lose _total in TYPE, exemplar on the bucket holding its value, # EOF', async () => {
  const exporter = new PrometheusExporter()
  const { contentType, body } = await exporter.render(families, 'openmetrics')
  assert.match(contentType, /^application\/openmetrics-text/)
  assert.match(body, /^# TYPE app_cache_hits counter$/m)
  assert.match(body, /^app_cache_hits_total\{target="a",cache="items"\} 5$/m)
  assert.match(body, /^app_http_request_duration_seconds_bucket\{target="a",route="\/x",le="1"\} 3 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 0\.5 1700000000\.5$/m)
  assert.match(body, /# EOF\n$/)
  // Rendering OpenMetrics must not disturb the text format (prom-client renames counters in place).
  const text = await exporter.render(families, 'prometheus')
  assert.match(text.body, /^# TYPE app_cache_hits_total counter$/m)
})

for (const format of ['prometheus', 'openmetrics'] as const) {
  test(`${format}: families that vanish from the snapshot vanish from the output`, async () => {
    const exporter = new PrometheusExporter()
    await exporter.render(families, format)
    const { body } = await exporter.render(families.slice(1, 2), format)
    assert.doesNotMatch(body, /app_cache_hits/)
    assert.match(body, /probe_success/)
  })
}

test('families of one name from several sources merge; duplicate series and empty families drop', () => {
  const merged = mergeFamilies([
    { name: 'probe_success', help: 'h', type: 'gauge', samples: [{ labels: { target: 'a', probe: 'x' }, value: 1 }] },
    { name: 'probe_success', help: 'h', type: 'gauge', samples: [{ labels: { probe: 'x', target: 'a' }, value: 0 }, { labels: { target: 'b', probe: 'x' }, value: 0 }] },
    { name: 'probe_success', help: 'h', type: 'counter', samples: [{ labels: { target: 'c' }, value: 1 }] },
    { name: 'empty', help: 'h', type: 'gauge', samples: [] }
  ])
  assert.equal(merged.length, 1)
  assert.deepEqual(merged[0]?.samples.map((s) => s.labels.target), ['a', 'b'])
})

test('Accept picks the format the way Prometheus asks for it', () => {
  assert.equal(formatFromAccept('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'), 'openmetrics')
  assert.equal(formatFromAccept('text/plain'), 'prometheus')
  assert.equal(formatFromAccept(undefined), 'prometheus')
})

test('promtool check metrics finds nothing to complain about', async () => {
  const exporter = new PrometheusExporter()
  const { body } = await exporter.render(families, 'prometheus')
  const result = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })
  assert.equal(result.error, undefined, 'promtool must be installed (Debian package prometheus)')
  assert.equal(`${result.stdout}${result.stderr}`.trim(), '')
  assert.equal(result.status, 0)
})
