/**
 * Declarative rules that turn any JSON document into metric families — for applications that serve
 * their own statistics JSON instead of the `outrigger.stats/v1` contract. Rules are checked and
 * compiled once; applying them to a document never throws: problems become a `mapping` or
 * `too_many_series` failure next to whatever the other rules produced.
 */
import { JSONPath } from 'jsonpath-plus'
import { OutriggerError } from '../errors.ts'
import type { FailureReason } from '../errors.ts'
import type { CollectResult, MetricFamily, ScalarSample, SourceFailure } from '../types.ts'

/**
 * One mapping rule: which values of the document become which metric.
 *
 * Two shapes, picked by whether `value` is set:
 *
 * - **Objects + value** (recommended, the json_exporter way): `path` selects *elements*, usually
 *   objects (`$.queues[*]`, `$.caches.*`); `value` is a JSONPath evaluated inside each element that
 *   selects its one value (`$.depth`); label paths are evaluated inside each element too.
 *   ```yaml
 *   - name: queue_depth        # → app_queue_depth
 *     type: gauge
 *     path: $.queues[*]
 *     value: $.depth
 *     labels: { queue: $.name, tier: gold }
 *   - name: cache_hits         # → app_cache_hits_total
 *     type: counter
 *     path: $.caches.*
 *     value: $.hits
 *     labels: { cache: "@key" }  # the property name under which each cache sits
 *   ```
 * - **Values only**: without `value`, each match of `path` is itself the value (`$.uptime`,
 *   `$.workers[*].busy`) and label paths are evaluated inside the object that holds it, so
 *   `{ worker: $.id }` reads a sibling of `busy`.
 *
 * Label values are one of:
 * - a JSONPath starting with `$`, relative to the element as above; it must select exactly one
 *   string, number or boolean;
 * - `@key`: the property name or array index under which the element (or, without `value`, the
 *   value) sits in its parent;
 * - any other string not starting with `$` or `@`: a literal.
 * Label values are cut to {@link MAX_LABEL_VALUE_LENGTH} characters. Every sample also gets `target`.
 *
 * Values: numbers as they are; booleans 1 and 0; strings through `valueMap` first (`{ up: 1,
 * down: 0 }`), otherwise a decimal number in a string (`"12.5"`) is parsed; anything else (an
 * unmapped word, null, a missing value, an object) skips that sample with a `mapping` failure.
 * Counters must not be negative.
 */
export interface MappingRule {
  /**
   * Metric name. `app_` is prefixed unless already there, and counters get `_total` unless already
   * there; the result must be a valid Prometheus metric name and unique among the rules.
   */
  name: string
  /** Help text; defaults to one naming the path. State the unit here. */
  help?: string
  type: 'gauge' | 'counter'
  /** JSONPath (starting with `$`) selecting the elements, or the values when `value` is absent. */
  path: string
  /** JSONPath (starting with `$`) of the value inside each element selected by `path`. */
  value?: string
  /** Label name → JSONPath (`$…`), `@key`, or a literal string. `target` is reserved. */
  labels?: Record<string, string>
  /** String values → numbers, such as `{ ok: 1, degraded: 0.5, down: 0 }`. */
  valueMap?: Record<string, number>
}

/** One problem found in a rule at compile time; `field` is the rule key (`name`, `labels.queue`). */
export interface MappingProblem {
  index: number
  field: string
  message: string
}

/** Options of {@link compileMappings}. */
export interface MappingOptions {
  /** Most distinct label sets one rule may produce per document; default {@link DEFAULT_MAX_SERIES_PER_RULE}. */
  maxSeriesPerRule?: number
}

/** Compiled rules, ready to apply to each fetched document. */
export interface CompiledMappings {
  /** The families the rules can produce, in rule order, with their final names. */
  readonly metrics: ReadonlyArray<{ name: string, type: 'gauge' | 'counter', help: string }>
  /**
   * Applies every rule to `doc`. Returns the non-empty families; when any rule failed (path matched
   * nothing, a value could not be read, duplicate label sets, too many series) also a failure whose
   * reason is the first failing rule's and whose message names up to three failing rules.
   */
  apply(doc: unknown, target: string): CollectResult
}

/** Label values longer than this are cut, so a runaway string cannot bloat every scrape. */
export const MAX_LABEL_VALUE_LENGTH = 128
/** Default cap on distinct series per rule; above it the rule yields nothing and fails with `too_many_series`. */
export const DEFAULT_MAX_SERIES_PER_RULE = 1000

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const RULE_KEYS = new Set(['name', 'help', 'type', 'path', 'value', 'labels', 'valueMap'])
const KEY_LABEL = '@key'
const MAX_LISTED_FAILURES = 3

type LabelSource = { kind: 'path', path: string } | { kind: 'key' } | { kind: 'literal', value: string }

interface CompiledRule {
  index: number
  name: string
  type: 'gauge' | 'counter'
  help: string
  path: string
  value: string | undefined
  labels: Array<[string, LabelSource]>
  valueMap: ReadonlyMap<string, number>
}

/** A JSONPath match: the selected value, the object holding it and the key it sits under. */
interface Match {
  value: unknown
  parent: unknown
  key: string | number | null
  /** Normalised path of the match, for messages. */
  path: string
}

/**
 * Checks rules without compiling them and returns every problem found (empty when all are valid).
 * Accepts unknown input so a config loader can report problems with its own file positions.
 */
export function validateMappings (rules: readonly unknown[]): MappingProblem[] {
  const problems: MappingProblem[] = []
  const seen = new Map<string, number>()
  rules.forEach((rule, index) => {
    const add = (field: string, message: string): void => { problems.push({ index, field, message }) }
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      add('(rule)', `must be an object, got ${JSON.stringify(rule)}`)
      return
    }
    const r = rule as Record<string, unknown>
    for (const key of Object.keys(r)) {
      if (!RULE_KEYS.has(key)) add(childField('', key), `unknown key ${JSON.stringify(key)}; known keys are ${[...RULE_KEYS].join(', ')}`)
    }
    if (r.type !== 'gauge' && r.type !== 'counter') add('type', `must be "gauge" or "counter", got ${JSON.stringify(r.type)}`)
    const name = typeof r.name === 'string' && (r.type === 'gauge' || r.type === 'counter') ? metricName(r.name, r.type) : undefined
    if (typeof r.name !== 'string' || r.name === '') {
      add('name', `must be a non-empty string, got ${JSON.stringify(r.name)}`)
    } else if (name !== undefined) {
      if (!METRIC_NAME.test(name)) add('name', `${JSON.stringify(name)} is not a valid Prometheus metric name`)
      else if (r.type === 'gauge' && name.endsWith('_total')) add('name', `${JSON.stringify(name)}: a gauge must not end in _total (make it a counter or rename it)`)
      const first = seen.get(name)
      if (first !== undefined) add('name', `${JSON.stringify(name)} is already produced by rule ${first}`)
      else seen.set(name, index)
    }
    if (r.help !== undefined && typeof r.help !== 'string') add('help', `must be a string, got ${JSON.stringify(r.help)}`)
    checkPath(r.path, 'path', add)
    if (r.value !== undefined) checkPath(r.value, 'value', add)
    if (r.labels !== undefined) {
      if (typeof r.labels !== 'object' || r.labels === null || Array.isArray(r.labels)) {
        add('labels', `must be a map of label name to path or literal, got ${JSON.stringify(r.labels)}`)
      } else {
        for (const [label, source] of Object.entries(r.labels)) {
          const field = childField('labels', label)
          if (!LABEL_NAME.test(label) || label.startsWith('__')) add(field, `${JSON.stringify(label)} is not a valid label name`)
          else if (label === 'target') add(field, '"target" is reserved: every sample is labelled with its target')
          if (typeof source !== 'string') add(field, `must be a string, got ${JSON.stringify(source)}`)
          else if (source.startsWith('$')) checkPath(source, field, add)
          else if (source.startsWith('@') && source !== KEY_LABEL) add(field, `${JSON.stringify(source)}: the only @ form is "${KEY_LABEL}"`)
        }
      }
    }
    if (r.valueMap !== undefined) {
      if (typeof r.valueMap !== 'object' || r.valueMap === null || Array.isArray(r.valueMap)) {
        add('valueMap', `must be a map of string to number, got ${JSON.stringify(r.valueMap)}`)
      } else {
        for (const [key, value] of Object.entries(r.valueMap)) {
          if (typeof value !== 'number' || !Number.isFinite(value)) add(childField('valueMap', key), `must be a finite number, got ${JSON.stringify(value)}`)
        }
      }
    }
  })
  return problems
}

/** `parent.key` for a plain key, `parent["odd key"]` when the key would blur the field (dots, colons, spaces). */
function childField (parent: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`
  return `${parent}[${JSON.stringify(key)}]`
}

/**
 * Checks and compiles `rules` once.
 *
 * @throws OutriggerError `OUTRIGGER_ERR_MAPPING_INVALID` listing every problem as `rule <index>
 * <field>: …` (see {@link validateMappings}).
 */
export function compileMappings (rules: readonly MappingRule[], options: MappingOptions = {}): CompiledMappings {
  const maxSeries = options.maxSeriesPerRule ?? DEFAULT_MAX_SERIES_PER_RULE
  if (!Number.isInteger(maxSeries) || maxSeries < 1) {
    throw new OutriggerError('OUTRIGGER_ERR_MAPPING_INVALID', `maxSeriesPerRule must be a positive integer, got ${maxSeries}`)
  }
  const problems = validateMappings(rules)
  if (problems.length > 0) {
    const list = problems.map((p) => `rule ${p.index} ${p.field}: ${p.message}`).join('; ')
    throw new OutriggerError('OUTRIGGER_ERR_MAPPING_INVALID', `invalid mapping rules: ${list}`)
  }
  const compiled: CompiledRule[] = rules.map((rule, index) => ({
    index,
    name: metricName(rule.name, rule.type),
    type: rule.type,
    help: rule.help ?? `Value of ${rule.value === undefined ? rule.path : `${rule.value} in ${rule.path}`} in the target's JSON.`,
    path: rule.path,
    value: rule.value,
    labels: Object.entries(rule.labels ?? {}).map(([label, source]): [string, LabelSource] => [label, labelSource(source)]),
    valueMap: new Map(Object.entries(rule.valueMap ?? {}))
  }))
  return {
    metrics: compiled.map(({ name, type, help }) => ({ name, type, help })),
    apply: (doc, target) => applyRules(compiled, maxSeries, doc, target)
  }
}

function metricName (name: string, type: 'gauge' | 'counter'): string {
  const prefixed = name.startsWith('app_') ? name : `app_${name}`
  return type === 'counter' && !prefixed.endsWith('_total') ? `${prefixed}_total` : prefixed
}

function checkPath (path: unknown, field: string, add: (field: string, message: string) => void): void {
  if (typeof path !== 'string' || !path.startsWith('$')) {
    add(field, `must be a JSONPath starting with "$", got ${JSON.stringify(path)}`)
    return
  }
  try {
    // Parses the path (filters are parsed lazily, when first evaluated on a document).
    JSONPath({ path, json: {}, eval: 'safe', wrap: true })
  } catch (error) {
    add(field, `${JSON.stringify(path)} is not a valid JSONPath: ${(error as Error).message}`)
  }
}

function labelSource (source: string): LabelSource {
  if (source.startsWith('$')) return { kind: 'path', path: source }
  if (source === KEY_LABEL) return { kind: 'key' }
  return { kind: 'literal', value: source }
}

function query (path: string, json: unknown): Match[] {
  // jsonpath-plus answers nothing at all for a falsy or primitive document; only `$` selects anything there.
  if (typeof json !== 'object' || json === null) {
    return path === '$' ? [{ value: json, parent: null, key: null, path: '$' }] : []
  }
  const results = JSONPath({ path, json: json as object, resultType: 'all', eval: 'safe', wrap: true }) as Array<{
    value: unknown, parent: unknown, parentProperty: string | number | null, path: string
  }>
  return results.map((r) => ({ value: r.value, parent: r.parent, key: r.parentProperty, path: r.path }))
}

/**
 * `query` relative to one matched element. A filter can fail on one element's shape (`@.x` on a
 * null): that skips the sample, it does not fail the scrape.
 */
function queryElement (path: string, element: unknown, what: string, match: Match): Match[] {
  try {
    return query(path, element)
  } catch (error) {
    throw new SampleProblem(`${what} could not be evaluated at ${match.path}: ${(error as Error).message}`)
  }
}

/** A per-sample problem: the sample is skipped and the rule reports it. */
class SampleProblem {
  readonly message: string
  constructor (message: string) {
    this.message = message
  }
}

interface RuleOutcome {
  family?: MetricFamily
  failure?: SourceFailure
}

function applyRules (rules: readonly CompiledRule[], maxSeries: number, doc: unknown, target: string): CollectResult {
  const families: MetricFamily[] = []
  const failures: SourceFailure[] = []
  for (const rule of rules) {
    const outcome = applyRule(rule, maxSeries, doc, target)
    if (outcome.family !== undefined) families.push(outcome.family)
    if (outcome.failure !== undefined) failures.push(outcome.failure)
  }
  if (failures.length === 0) return { families }
  const listed = failures.slice(0, MAX_LISTED_FAILURES).map((f) => f.message)
  const rest = failures.length - listed.length
  return {
    families,
    failure: { reason: failures[0]!.reason, message: listed.join('; ') + (rest > 0 ? `; and ${rest} more failing rules` : '') }
  }
}

function applyRule (rule: CompiledRule, maxSeries: number, doc: unknown, target: string): RuleOutcome {
  const fail = (reason: FailureReason, message: string): RuleOutcome => ({ failure: { reason, message: `rule ${rule.index} (${rule.name}): ${message}` } })
  let matches: Match[]
  try {
    matches = query(rule.path, doc)
  } catch (error) {
    return fail('mapping', `path ${rule.path} could not be evaluated: ${(error as Error).message}`)
  }
  if (matches.length === 0) return fail('mapping', `path ${rule.path} matched nothing`)

  const samples: ScalarSample[] = []
  const seen = new Set<string>()
  let firstProblem: string | undefined
  let skipped = 0
  for (const match of matches) {
    try {
      const sample = toSample(rule, match, target)
      const key = JSON.stringify(rule.labels.map(([label]) => sample.labels[label]))
      if (seen.has(key)) {
        // Two values for one series: which one is right cannot be told, so the whole rule is out.
        return fail('mapping', `duplicate label set ${JSON.stringify(sample.labels)} at ${match.path}; add a label that tells the elements apart`)
      }
      seen.add(key)
      if (seen.size > maxSeries) {
        return fail('too_many_series', `more than ${maxSeries} series from ${rule.path}; narrow the path or drop a label`)
      }
      samples.push(sample)
    } catch (error) {
      if (!(error instanceof SampleProblem)) throw error
      firstProblem ??= error.message
      skipped++
    }
  }
  const family: MetricFamily | undefined = samples.length > 0 ? { name: rule.name, help: rule.help, type: rule.type, samples } : undefined
  if (firstProblem === undefined) return { family }
  const more = skipped > 1 ? ` (${skipped} samples skipped)` : ''
  return { family, failure: fail('mapping', firstProblem + more).failure }
}

function toSample (rule: CompiledRule, match: Match, target: string): ScalarSample {
  // Without `value`, the match is the value and its labels come from the object holding it.
  let element: unknown = match.parent
  let raw: unknown = match.value
  let where = match.path
  if (rule.value !== undefined) {
    element = match.value
    const found = queryElement(rule.value, element, `value ${rule.value}`, match)
    if (found.length !== 1) {
      throw new SampleProblem(`value ${rule.value} ${found.length === 0 ? 'is missing' : `matched ${found.length} values`} in ${match.path}`)
    }
    raw = found[0]!.value
    where = `${match.path}${found[0]!.path.slice(1)}`
  }
  const labels: Record<string, string> = { target }
  for (const [label, source] of rule.labels) {
    labels[label] = labelValue(label, source, element, match).slice(0, MAX_LABEL_VALUE_LENGTH)
  }
  return { labels, value: toNumber(rule, raw, where) }
}

function labelValue (label: string, source: LabelSource, element: unknown, match: Match): string {
  switch (source.kind) {
    case 'literal': return source.value
    case 'key':
      if (match.key === null) throw new SampleProblem(`label ${label}: ${match.path} has no key`)
      return String(match.key)
    case 'path': {
      const found = queryElement(source.path, element, `label ${label}: ${source.path}`, match)
      if (found.length !== 1) {
        throw new SampleProblem(`label ${label}: ${source.path} ${found.length === 0 ? 'is missing' : `matched ${found.length} values`} at ${match.path}`)
      }
      const value = found[0]!.value
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
      throw new SampleProblem(`label ${label}: ${source.path} at ${match.path} is ${describe(value)}, not a string, number or boolean`)
    }
  }
}

function toNumber (rule: CompiledRule, raw: unknown, where: string): number {
  let value: number
  if (typeof raw === 'number') {
    value = raw
  } else if (typeof raw === 'boolean') {
    value = raw ? 1 : 0
  } else if (typeof raw === 'string') {
    const mapped = rule.valueMap.get(raw)
    if (mapped !== undefined) value = mapped
    else if (DECIMAL.test(raw.trim())) value = Number(raw)
    else throw new SampleProblem(`value ${JSON.stringify(raw.slice(0, MAX_LABEL_VALUE_LENGTH))} at ${where} is not a number and not in valueMap`)
  } else {
    throw new SampleProblem(`value at ${where} is ${describe(raw)}, not a number`)
  }
  if (!Number.isFinite(value)) throw new SampleProblem(`value at ${where} is not finite`)
  if (rule.type === 'counter' && value < 0) throw new SampleProblem(`counter value ${value} at ${where} is negative`)
  return value
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : typeof value
}
