/**
 * Renders the snapshot and the agent's own metrics in the Prometheus text format, or in
 * OpenMetrics (with exemplars) when the scraper asks for it in `Accept`.
 *
 * Exposition is prom-client's: each metric family is a small object registered in the agent's own
 * registries (never prom-client's global one). There is one registry per format because prom-client
 * renames counters in place for OpenMetrics (`x_total` → `x`), so the two formats cannot share
 * metric objects.
 */
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client'
import type { HistogramSample, Labels, MetricFamily } from '../types.ts'

/** The content type a scrape asked for. */
export type ExpositionFormat = 'prometheus' | 'openmetrics'

/** Picks OpenMetrics when `Accept` names it, as Prometheus does when exemplar storage is on. */
export function formatFromAccept (accept: string | undefined): ExpositionFormat {
  return accept !== undefined && accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus'
}

/** One sample line as prom-client's registry renders it. */
interface RenderedValue {
  value: number
  labels: Labels
  metricName?: string
  exemplar?: { labelSet: Labels, value: number, timestamp: number }
}

/**
 * A metric family as a prom-client metric: the registry calls `get()` at render time. `name` is
 * the field prom-client rewrites for OpenMetrics counters, so `get()` reports it back as is.
 */
class FamilyMetric {
  name: string
  family: MetricFamily

  constructor (family: MetricFamily) {
    this.name = family.name
    this.family = family
  }

  /** Read by the registry to decide the OpenMetrics counter renaming. */
  get type (): MetricFamily['type'] {
    return this.family.type
  }

  get (): { name: string, help: string, type: string, values: RenderedValue[], aggregator: 'sum' } {
    const { family } = this
    const values: RenderedValue[] = family.type === 'histogram'
      ? family.samples.flatMap((sample) => histogramValues(this.name, sample))
      : family.samples.map((sample) => ({ value: sample.value, labels: sample.labels }))
    return { name: this.name, help: family.help, type: family.type, values, aggregator: 'sum' }
  }

  reset (): void {}
}

function histogramValues (name: string, sample: HistogramSample): RenderedValue[] {
  const values: RenderedValue[] = []
  const { exemplar } = sample
  // The exemplar goes on the first bucket that holds its value, as OpenMetrics expects.
  let exemplarPlaced = exemplar === undefined
  for (const bucket of sample.buckets) {
    const value: RenderedValue = { metricName: `${name}_bucket`, labels: { ...sample.labels, le: String(bucket.le) }, value: bucket.count }
    if (!exemplarPlaced && exemplar !== undefined && exemplar.value <= bucket.le) {
      value.exemplar = exemplarOf(exemplar)
      exemplarPlaced = true
    }
    values.push(value)
  }
  const inf: RenderedValue = { metricName: `${name}_bucket`, labels: { ...sample.labels, le: '+Inf' }, value: sample.count }
  if (!exemplarPlaced && exemplar !== undefined) {
    inf.exemplar = exemplarOf(exemplar)
  }
  values.push(inf)
  values.push({ metricName: `${name}_sum`, labels: sample.labels, value: sample.sum })
  values.push({ metricName: `${name}_count`, labels: sample.labels, value: sample.count })
  return values
}

function exemplarOf (exemplar: NonNullable<HistogramSample['exemplar']>): RenderedValue['exemplar'] {
  return { labelSet: { trace_id: exemplar.traceId, span_id: exemplar.spanId }, value: exemplar.value, timestamp: exemplar.timestampSeconds }
}

/** A registry whose family metrics are replaced at every render. */
class FamilyRegistry {
  readonly registry: Registry<RegistryContentType>
  readonly #metrics = new Map<string, FamilyMetric>()

  constructor (contentType: RegistryContentType) {
    this.registry = new Registry<RegistryContentType>()
    this.registry.setContentType(contentType)
    collectDefaultMetrics({ register: this.registry })
    // prom-client exposes these totals as gauges named `_total`, which `promtool check metrics`
    // rejects; the per-type series beside them carry the same information.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name)
    }
  }

  async render (families: readonly MetricFamily[]): Promise<string> {
    const seen = new Set<string>()
    for (const family of families) {
      seen.add(family.name)
      const existing = this.#metrics.get(family.name)
      if (existing !== undefined && existing.family.type === family.type) {
        existing.family = family
      } else {
        if (existing !== undefined) {
          // Keyed by the name it was registered under; OpenMetrics rendering renames `existing.name`.
          this.registry.removeSingleMetric(family.name)
        }
        const metric = new FamilyMetric(family)
        this.#metrics.set(family.name, metric)
        this.registry.registerMetric(metric as never)
      }
    }
    for (const name of this.#metrics.keys()) {
      if (!seen.has(name)) {
        this.registry.removeSingleMetric(name)
        this.#metrics.delete(name)
      }
    }
    return this.registry.metrics()
  }
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

/** Serves metric families in both exposition formats. */
export class PrometheusExporter {
  readonly #text = new FamilyRegistry(Registry.PROMETHEUS_CONTENT_TYPE)
  readonly #openMetrics = new FamilyRegistry(Registry.OPENMETRICS_CONTENT_TYPE)

  /** Renders `families` in `format`; returns the body and its content type. */
  async render (families: Iterable<MetricFamily>, format: ExpositionFormat): Promise<{ contentType: string, body: string }> {
    const target = format === 'openmetrics' ? this.#openMetrics : this.#text
    const body = await target.render(mergeFamilies(families))
    return { contentType: target.registry.contentType, body }
  }
}
