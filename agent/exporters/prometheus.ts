/**
 * Renders the snapshot and the agent's own metrics in the Prometheus text format, or in
 * OpenMetrics (with exemplars) when the scraper asks for it in `Accept`.
 *
 * The agent's own process metrics come from prom-client's default collectors, in registries of the
 * agent's own (never prom-client's global one). The snapshot's families are written here, in the
 * same layout prom-client uses, because they are most of the output and must render fast.
 */
import { createRequire } from 'node:module'
import type * as PromClient from 'prom-client'
import type { HistogramSample, Labels, MetricFamily } from '../types.ts'

// prom-client's own files for the registry and the default collectors, not its index: the index
// also loads the push gateway (with zlib and an HTTP client), summaries (t-digest, a red-black
// tree) and cluster aggregation, none of which the agent uses (about 1 MiB less RSS, measured).
// The package has no `exports` map, so these paths are public in practice; the types come from
// the package's declarations, which describe the same objects.
const requireFromHere = createRequire(import.meta.url)
const Registry = requireFromHere('prom-client/lib/registry.js') as typeof PromClient.Registry
const collectDefaultMetrics = requireFromHere('prom-client/lib/defaultMetrics.js') as typeof PromClient.collectDefaultMetrics
type RegistryContentType = PromClient.RegistryContentType
type DefaultMetricsRegistry = PromClient.Registry<RegistryContentType>

/** The content type a scrape asked for. */
export type ExpositionFormat = 'prometheus' | 'openmetrics'

/** Picks OpenMetrics when `Accept` names it, as Prometheus does when exemplar storage is on. */
export function formatFromAccept (accept: string | undefined): ExpositionFormat {
  return accept !== undefined && accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus'
}

/** How often the agent's own event-loop delay is sampled, in ms (`nodejs_eventloop_lag_*`). */
const EVENT_LOOP_SAMPLE_MS = 100

/**
 * The agent's own process metrics (prom-client's default collectors) in one format. There is one
 * registry per format because prom-client renames counters in place for OpenMetrics (`x_total` →
 * `x`), so the two formats cannot share metric objects.
 */
function defaultMetricsRegistry (contentType: RegistryContentType): DefaultMetricsRegistry {
  const registry = new Registry<RegistryContentType>()
  registry.setContentType(contentType)
  // prom-client samples the event-loop delay every 10 ms by default, which alone costs an idle
  // agent about 4 ms of CPU a second; ten samples a second still catch every stall that matters.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
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
 * The body being rendered, kept as UTF-8 bytes outside the JS heap and appended in chunks of a
 * few KiB. Built as one growing string instead, the whole body would stay alive across young
 * collections and be copied again at each (the agent runs with a small young generation); this
 * way the strings of each line die young and only the finished body is one large string.
 */
class BodyWriter {
  #buffer: Buffer
  #length = 0
  #pending = ''

  /** @param buffer where to write; grown (replaced) as needed, see {@link buffer}. */
  constructor (buffer: Buffer) {
    this.#buffer = buffer
  }

  /** The buffer written to, possibly a larger one than the constructor was given. */
  get buffer (): Buffer {
    return this.#buffer
  }

  append (text: string): void {
    this.#pending += text
    if (this.#pending.length >= 8192) this.#flush()
  }

  finish (): string {
    this.#flush()
    return this.#buffer.toString('utf8', 0, this.#length)
  }

  #flush (): void {
    const text = this.#pending
    this.#pending = ''
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.#length + text.length * 3 > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + text.length * 3))
      this.#buffer.copy(grown, 0, 0, this.#length)
      this.#buffer = grown
    }
    this.#length += this.#buffer.write(text, this.#length)
  }
}

/**
 * Writes one family in the text format or OpenMetrics, the way prom-client writes it (HELP, TYPE,
 * one line per series; OpenMetrics counters are typed without `_total` and sampled with it), but
 * with each sample's labels formatted once and no object per line: prom-client's per-line objects
 * dominated the render time of large snapshots.
 */
function renderFamily (family: MetricFamily, openMetrics: boolean, out: BodyWriter): void {
  const counter = openMetrics && family.type === 'counter'
  const typeName = counter ? family.name.replace(/_total$/, '') : family.name
  const sampleName = counter ? `${typeName}_total` : family.name
  out.append(`# HELP ${typeName} ${escapeHelp(family.help)}\n# TYPE ${typeName} ${family.type}`)
  if (family.type !== 'histogram') {
    for (const sample of family.samples) {
      const labels = formatLabels(sample.labels)
      out.append(labels === '' ? `\n${sampleName} ${formatValue(sample.value)}` : `\n${sampleName}{${labels}} ${formatValue(sample.value)}`)
    }
    return
  }
  for (const sample of family.samples) {
    const labels = formatLabels(sample.labels)
    const bucketPrefix = labels === '' ? `\n${family.name}_bucket{le="` : `\n${family.name}_bucket{${labels},le="`
    const suffix = labels === '' ? ' ' : `{${labels}} `
    const { exemplar } = sample
    // The exemplar goes on the first bucket that holds its value, as OpenMetrics expects.
    let exemplarPending = openMetrics && exemplar !== undefined
    for (const bucket of sample.buckets) {
      out.append(`${bucketPrefix}${bucket.le}"} ${formatValue(bucket.count)}`)
      if (exemplarPending && exemplar !== undefined && exemplar.value <= bucket.le) {
        out.append(exemplarSuffix(exemplar))
        exemplarPending = false
      }
    }
    out.append(`${bucketPrefix}+Inf"} ${formatValue(sample.count)}`)
    if (exemplarPending && exemplar !== undefined) out.append(exemplarSuffix(exemplar))
    out.append(`\n${family.name}_sum${suffix}${formatValue(sample.sum)}\n${family.name}_count${suffix}${formatValue(sample.count)}`)
  }
}

/** A family's samples without repeated label sets, and the key of each; see {@link ownSamples}. */
interface OwnSamples {
  samples: MetricFamily['samples']
  keys: string[]
}

/**
 * Per family object: its deduplicated samples and their label keys. A source's families never
 * change after its run, so this is worked out once per run instead of at every scrape (which, for
 * a large snapshot, made thousands of short-lived strings per scrape).
 */
const ownSamplesCache = new WeakMap<MetricFamily, OwnSamples>()

function ownSamples (family: MetricFamily): OwnSamples {
  let own = ownSamplesCache.get(family)
  if (own === undefined) {
    const keys: string[] = []
    const seen = new Set<string>()
    const kept: Array<MetricFamily['samples'][number]> = []
    for (const sample of family.samples) {
      const key = labelKey(sample.labels)
      if (!seen.has(key)) {
        seen.add(key)
        keys.push(key)
        kept.push(sample)
      }
    }
    own = { samples: kept.length === family.samples.length ? family.samples : kept as MetricFamily['samples'], keys }
    ownSamplesCache.set(family, own)
  }
  return own
}

/**
 * Merges families of the same name from several sources into one (first help and type win) and
 * drops duplicate label sets and empty families, so the output is always valid exposition.
 */
export function mergeFamilies (families: Iterable<MetricFamily>): MetricFamily[] {
  const byName = new Map<string, MetricFamily[]>()
  for (const family of families) {
    const group = byName.get(family.name)
    if (group === undefined) {
      byName.set(family.name, [family])
    } else if (group[0]?.type === family.type) {
      group.push(family)
    }
  }
  const merged: MetricFamily[] = []
  for (const group of byName.values()) {
    const first = group[0] as MetricFamily
    if (group.length === 1) {
      const { samples } = ownSamples(first)
      if (samples.length > 0) merged.push(samples === first.samples ? first : { ...first, samples } as MetricFamily)
      continue
    }
    const seen = new Set<string>()
    const samples: Array<MetricFamily['samples'][number]> = []
    for (const family of group) {
      const own = ownSamples(family)
      own.keys.forEach((key, i) => {
        if (!seen.has(key)) {
          seen.add(key)
          samples.push(own.samples[i] as MetricFamily['samples'][number])
        }
      })
    }
    if (samples.length > 0) merged.push({ ...first, samples } as MetricFamily)
  }
  return merged
}

function labelKey (labels: Labels): string {
  return Object.keys(labels).sort().map((name) => `${name}=${labels[name]}`).join('\u0000')
}

/** Serves metric families in both exposition formats, after the agent's own process metrics. */
export class PrometheusExporter {
  // Each is made at the first scrape in its format: a Prometheus sticks to one format, and each
  // registry runs its own collectors.
  #text: DefaultMetricsRegistry | undefined
  #openMetrics: DefaultMetricsRegistry | undefined
  /** Kept from one render to the next: a new one per scrape makes the GC chase external memory. */
  #buffer: Buffer = Buffer.allocUnsafe(64 * 1024)

  /** Renders `families` in `format`; returns the body and its content type. */
  async render (families: Iterable<MetricFamily>, format: ExpositionFormat): Promise<{ contentType: string, body: string }> {
    const openMetrics = format === 'openmetrics'
    const registry = openMetrics
      ? this.#openMetrics ??= defaultMetricsRegistry(Registry.OPENMETRICS_CONTENT_TYPE)
      : this.#text ??= defaultMetricsRegistry(Registry.PROMETHEUS_CONTENT_TYPE)
    const own = await registry.metrics()
    // From here to `finish()` nothing awaits, so two scrapes at once never share the buffer.
    const out = new BodyWriter(this.#buffer)
    if (openMetrics) {
      // prom-client ends OpenMetrics with `# EOF`, which must come after every family.
      out.append(own.replace(/# EOF\n$/, ''))
      for (const family of mergeFamilies(families)) {
        renderFamily(family, true, out)
        out.append('\n')
      }
      out.append('# EOF\n')
    } else {
      // Families are separated by an empty line, as prom-client separates its own.
      out.append(own)
      for (const family of mergeFamilies(families)) {
        out.append('\n')
        renderFamily(family, false, out)
        out.append('\n')
      }
    }
    const body = out.finish()
    this.#buffer = out.buffer
    return { contentType: registry.contentType, body }
  }
}
