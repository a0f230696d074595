/**
 * Renders the snapshot and the agent's own metrics in the Prometheus text format, or in
 * OpenMetrics (with exemplars) when the scraper asks for it in `Accept`.
 *
 * The agent's own process metrics come from prom-client's default collectors, in registries of the
 * agent's own (never prom-client's global one). The snapshot's families are written here, in the
 * same layout prom-client uses, because they are most of the output and must render fast.
 */
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client'
import type { HistogramSample, Labels, MetricFamily } from '../types.ts'

/** The content type a scrape asked for. */
export type ExpositionFormat = 'prometheus' | 'openmetrics'

/** Picks OpenMetrics when `Accept` names it, as Prometheus does when exemplar storage is on. */
export function formatFromAccept (accept: string | undefined): ExpositionFormat {
  return accept !== undefined && accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus'
}

/**
 * The agent's own process metrics (prom-client's default collectors) in one format. There is one
 * registry per format because prom-client renames counters in place for OpenMetrics (`x_total` →
 * `x`), so the two formats cannot share metric objects.
 */
function defaultMetricsRegistry (contentType: RegistryContentType): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>()
  registry.setContentType(contentType)
  collectDefaultMetrics({ register: registry })
  // prom-client exposes these totals as gauges named `_total`, which `promtool check metrics`
  // rejects; the per-type series beside them carry the same information.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name)
  }
  return registry
}

/** A value as the exposition formats write it. */
function formatValue (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return `${value}`
}

function escapeHelp (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** `name="value",…` with the label-value escapes (backslash, newline, double quote); '' for no labels. */
function formatLabels (labels: Labels): string {
  let out = ''
  for (const name in labels) {
    const value = labels[name] as string
    const escaped = /[\\\n"]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value
    out += out === '' ? `${name}="${escaped}"` : `,${name}="${escaped}"`
  }
  return out
}

function exemplarSuffix (exemplar: NonNullable<HistogramSample['exemplar']>): string {
  return ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${formatValue(exemplar.value)} ${exemplar.timestampSeconds}`
}

/**
 * One family in the text format or OpenMetrics, the way prom-client writes it (HELP, TYPE, one
 * line per series; OpenMetrics counters are typed without `_total` and sampled with it), but
 * with each sample's labels formatted once: prom-client builds objects and arrays per line, which
 * dominated the render time of large snapshots.
 */
function renderFamily (family: MetricFamily, openMetrics: boolean): string {
  const counter = openMetrics && family.type === 'counter'
  const typeName = counter ? family.name.replace(/_total$/, '') : family.name
  const sampleName = counter ? `${typeName}_total` : family.name
  const lines = [`# HELP ${typeName} ${escapeHelp(family.help)}`, `# TYPE ${typeName} ${family.type}`]
  if (family.type !== 'histogram') {
    for (const sample of family.samples) {
      const labels = formatLabels(sample.labels)
      lines.push(`${sampleName}${labels === '' ? '' : `{${labels}}`} ${formatValue(sample.value)}`)
    }
    return lines.join('\n')
  }
  for (const sample of family.samples) {
    const labels = formatLabels(sample.labels)
    const bucketPrefix = `${family.name}_bucket{${labels === '' ? '' : `${labels},`}le="`
    const suffix = labels === '' ? '' : `{${labels}}`
    const { exemplar } = sample
    // The exemplar goes on the first bucket that holds its value, as OpenMetrics expects.
    let exemplarPending = openMetrics && exemplar !== undefined
    for (const bucket of sample.buckets) {
      let line = `${bucketPrefix}${bucket.le}"} ${formatValue(bucket.count)}`
      if (exemplarPending && exemplar !== undefined && exemplar.value <= bucket.le) {
        line += exemplarSuffix(exemplar)
        exemplarPending = false
      }
      lines.push(line)
    }
    lines.push(`${bucketPrefix}+Inf"} ${formatValue(sample.count)}${exemplarPending && exemplar !== undefined ? exemplarSuffix(exemplar) : ''}`,
      `${family.name}_sum${suffix} ${formatValue(sample.sum)}`,
      `${family.name}_count${suffix} ${formatValue(sample.count)}`)
  }
  return lines.join('\n')
}

/**
 * Merges families of the same name from several sources into one (first help and type win) and
 * drops duplicate label sets and empty families, so the output is always valid exposition.
 */
export function mergeFamilies (families: Iterable<MetricFamily>): MetricFamily[] {
  const merged = new Map<string, { family: MetricFamily, keys: Set<string> }>()
  for (const family of families) {
    let entry = merged.get(family.name)
    if (entry === undefined) {
      entry = { family: { ...family, samples: [] } as MetricFamily, keys: new Set() }
      merged.set(family.name, entry)
    } else if (entry.family.type !== family.type) {
      continue
    }
    for (const sample of family.samples) {
      const key = labelKey(sample.labels)
      if (!entry.keys.has(key)) {
        entry.keys.add(key)
        ;(entry.family.samples as Array<typeof sample>).push(sample)
      }
    }
  }
  return [...merged.values()].map((entry) => entry.family).filter((family) => family.samples.length > 0)
}

function labelKey (labels: Labels): string {
  return Object.keys(labels).sort().map((name) => `${name}=${labels[name]}`).join('\u0000')
}

/** Serves metric families in both exposition formats, after the agent's own process metrics. */
export class PrometheusExporter {
  readonly #text = defaultMetricsRegistry(Registry.PROMETHEUS_CONTENT_TYPE)
  readonly #openMetrics = defaultMetricsRegistry(Registry.OPENMETRICS_CONTENT_TYPE)

  /** Renders `families` in `format`; returns the body and its content type. */
  async render (families: Iterable<MetricFamily>, format: ExpositionFormat): Promise<{ contentType: string, body: string }> {
    const openMetrics = format === 'openmetrics'
    const registry = openMetrics ? this.#openMetrics : this.#text
    const own = await registry.metrics()
    const rendered = mergeFamilies(families).map((family) => renderFamily(family, openMetrics))
    let body: string
    if (openMetrics) {
      // prom-client ends OpenMetrics with `# EOF`, which must come after every family.
      body = `${own.replace(/# EOF\n$/, '')}${rendered.map((text) => `${text}\n`).join('')}# EOF\n`
    } else {
      body = rendered.length === 0 ? own : `${own}\n${rendered.join('\n\n')}\n`
    }
    return { contentType: registry.contentType, body }
  }
}
