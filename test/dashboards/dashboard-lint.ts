/**
 * Lint rules for Grafana dashboards, modelled on grafana/dashboard-linter's rules, plus the PromQL
 * checks they share with the Prometheus rule files. Each check returns findings as text (empty =
 * clean), so a test can both apply them to the committed files and prove they catch a broken one.
 *
 * PromQL is read with @prometheus-io/lezer-promql, the grammar Prometheus's own web UI uses: it
 * gives a syntax tree (to see which function a counter is inside, which range a rate uses, which
 * labels a selector matches). It is error-tolerant, so a syntax error shows as an error node.
 * promtool, which runs Prometheus's real parser and type checker, checks the same expressions in
 * promql-parse.test.ts.
 */
import { parser } from '@prometheus-io/lezer-promql'
import { panelsOf, queryVariables, toPromql, variableQuery, variableQueryExpression } from './dashboard-files.ts'
import type { Dashboard, Panel } from './dashboard-files.ts'

type SyntaxNode = ReturnType<typeof parser.parse>['topNode']

/** What `$__rate_interval` is replaced with for the syntax tree; no other range in a dashboard may equal it. */
export const RATE_INTERVAL_SENTINEL = '4242s'

/** Functions a counter must be wrapped in (grafana/dashboard-linter's target-counter-agg-rule). */
const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase'])

/** Prometheus naming conventions for counters and the counter parts of histograms and summaries. */
const COUNTER_SUFFIX = /_(total|count|sum|bucket)$/

/** Grafana unit ids the dashboards may use (a subset of Grafana's list), plus `suffix:`/`prefix:` custom units. */
export const VALID_UNITS = new Set([
  'none', 'short', 'percent', 'percentunit', 'bool', 'bool_yes_no', 'bool_on_off',
  'ns', 'µs', 'ms', 's', 'm', 'h', 'd', 'dtdurations', 'dtdurationms', 'dateTimeAsIso', 'dateTimeFromNow',
  'bytes', 'decbytes', 'bits', 'decbits', 'kbytes', 'mbytes', 'Bps', 'binBps', 'bps',
  'reqps', 'rps', 'wps', 'iops', 'ops', 'opm', 'rpm', 'cps', 'pps', 'hertz'
])

/** The panel types whose queries are time series or single stats. */
const DATA_PANEL_TYPES = new Set(['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'state-timeline', 'heatmap', 'piechart'])

/** One vector selector of an expression. */
export interface SelectorInfo {
  /** The metric name, or `undefined` for a `{__name__=~…}` selector. */
  metric: string | undefined
  /** Label matchers as written: name, operator, value (unquoted). */
  matchers: Array<{ label: string, op: string, value: string }>
  /** The range of a range selector (`[5m]`), as written. */
  range: string | undefined
  /** The nearest function the selector is an argument of, if any. */
  enclosingFunction: string | undefined
}

/** The syntax tree of `expr`, read into what the rules need. */
export function analyzePromql (expr: string): { syntaxErrors: string[], selectors: SelectorInfo[] } {
  const tree = parser.parse(expr)
  const syntaxErrors: string[] = []
  const selectors: SelectorInfo[] = []
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) {
        syntaxErrors.push(`syntax error at ${ref.from}: ${JSON.stringify(expr.slice(Math.max(0, ref.from - 20), ref.to + 20))}`)
        return
      }
      if (ref.name === 'VectorSelector') selectors.push(selectorInfo(ref.node, expr))
    }
  })
  return { syntaxErrors, selectors }
}

function selectorInfo (node: SyntaxNode, expr: string): SelectorInfo {
  const text = (n: SyntaxNode | null): string => n === null ? '' : expr.slice(n.from, n.to)
  const identifier = node.getChild('Identifier')
  const matchers: SelectorInfo['matchers'] = []
  const cursor = node.cursor()
  cursor.iterate((ref) => {
    if (ref.name !== 'UnquotedLabelMatcher' && ref.name !== 'QuotedLabelMatcher') return undefined
    const matcher = ref.node
    const label = text(matcher.getChild('LabelName') ?? matcher.getChild('QuotedLabelName')).replace(/^"|"$/g, '')
    const op = text(matcher.getChild('MatchOp'))
    const value = text(matcher.getChild('StringLiteral')).replace(/^["'`]|["'`]$/g, '')
    matchers.push({ label, op, value })
    return false
  })
  const nameMatcher = matchers.find((matcher) => matcher.label === '__name__' && matcher.op === '=')
  let range: string | undefined
  let parent = node.parent
  if (parent?.name === 'MatrixSelector') range = text(parent.getChild('DurationExpr'))
  let enclosingFunction: string | undefined
  while (parent !== null) {
    if (parent.name === 'FunctionCall') {
      enclosingFunction = text(parent.getChild('FunctionIdentifier'))
      break
    }
    // A selector inside an aggregation or binary operation is not a function's argument.
    if (parent.name === 'AggregateExpr' || parent.name === 'BinaryExpr') break
    parent = parent.parent
  }
  return { metric: identifier === null ? nameMatcher?.value : text(identifier), matchers, range, enclosingFunction }
}

/** Syntax errors and counters not wrapped in rate/irate/increase. Used for dashboards and rules. */
export function lintExpression (expr: string): string[] {
  const { syntaxErrors, selectors } = analyzePromql(expr)
  const findings = [...syntaxErrors]
  for (const selector of selectors) {
    if (selector.metric !== undefined && COUNTER_SUFFIX.test(selector.metric) && !RATE_FUNCTIONS.has(selector.enclosingFunction ?? '')) {
      findings.push(`counter ${selector.metric} must be inside rate(), irate() or increase(), not ${selector.enclosingFunction === undefined ? 'used bare' : `${selector.enclosingFunction}()`}`)
    }
  }
  return findings
}

/** Every finding for one dashboard; each names the rule, the panel and the query. */
export function lintDashboard (dashboard: Dashboard): string[] {
  const findings: string[] = []
  const variables = dashboard.templating?.list ?? []

  if (typeof dashboard.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(dashboard.uid)) findings.push(`dashboard-uid-rule: uid ${JSON.stringify(dashboard.uid)} must be a fixed id of at most 40 letters, digits, - or _`)
  if (typeof dashboard.title !== 'string' || dashboard.title.trim() === '') findings.push('dashboard-title-rule: the dashboard has no title')
  if (typeof dashboard.schemaVersion !== 'number' || dashboard.schemaVersion < 39) findings.push(`dashboard-schema-rule: schemaVersion ${String(dashboard.schemaVersion)} is below 39`)

  const datasource = variables.find((variable) => variable.name === 'datasource')
  if (datasource === undefined) findings.push('template-datasource-rule: no `datasource` variable')
  else if (datasource.type !== 'datasource' || datasource.query !== 'prometheus') findings.push('template-datasource-rule: `datasource` must be a variable of type datasource with query prometheus')

  const queryVars = queryVariables(dashboard)
  for (const variable of queryVars) {
    if (variable.datasource?.uid !== '${datasource}') findings.push(`template-datasource-rule: variable ${variable.name} must query \${datasource}`)
    if (variable.includeAll === true && variable.allValue !== '.+') findings.push(`template-all-value-rule: variable ${variable.name} must use allValue ".+" so "All" is a regex`)
    const inner = variableQueryExpression(variableQuery(variable))
    if (inner === undefined) findings.push(`template-label-promql-rule: variable ${variable.name}: query ${JSON.stringify(variableQuery(variable))} is not label_values(EXPR, label)`)
    // Only the syntax: label_values() reads series' labels, so a bare counter is fine here.
    else for (const problem of analyzePromql(toPromql(inner, RATE_INTERVAL_SENTINEL)).syntaxErrors) findings.push(`template-label-promql-rule: variable ${variable.name}: ${problem}`)
  }

  for (const panel of panelsOf(dashboard)) findings.push(...lintPanel(panel, queryVars.map((variable) => variable.name)))
  return findings
}

function lintPanel (panel: Panel, variableNames: readonly string[]): string[] {
  const findings: string[] = []
  const name = `panel ${JSON.stringify(panel.title ?? `#${String(panel.id)}`)}`
  if ((panel.title ?? '').trim() === '') findings.push(`panel-title-description-rule: panel #${String(panel.id)} has no title`)
  if ((panel.description ?? '').trim() === '') findings.push(`panel-title-description-rule: ${name} has no description`)
  if (!DATA_PANEL_TYPES.has(panel.type)) {
    findings.push(`panel-type-rule: ${name} is of type ${panel.type}; use a data panel`)
    return findings
  }
  const unit = panel.fieldConfig?.defaults?.unit
  if (unit === undefined || !(VALID_UNITS.has(unit) || /^(suffix|prefix):./.test(unit))) findings.push(`panel-units-rule: ${name} has unit ${JSON.stringify(unit)}; set a valid Grafana unit`)
  if (panel.datasource?.uid !== '${datasource}') findings.push(`panel-datasource-rule: ${name} must use the \${datasource} variable`)
  const targets = panel.targets ?? []
  if (targets.length === 0) findings.push(`panel-targets-rule: ${name} has no queries`)
  for (const target of targets) {
    const query = `${name} query ${target.refId ?? '?'}`
    if (target.datasource?.uid !== '${datasource}') findings.push(`panel-datasource-rule: ${query} must use the \${datasource} variable`)
    const expr = target.expr ?? ''
    if (expr.trim() === '') {
      findings.push(`target-promql-rule: ${query} has no expression`)
      continue
    }
    for (const problem of lintExpression(toPromql(expr, RATE_INTERVAL_SENTINEL))) findings.push(`target-promql-rule: ${query}: ${problem}`)
    // Variables stay as written here: `"$target"` is a valid string literal, and the rule checks it.
    const { selectors } = analyzePromql(expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, RATE_INTERVAL_SENTINEL))
    for (const selector of selectors) {
      const label = selector.metric ?? 'a {__name__} selector'
      if (selector.range !== undefined && selector.range !== RATE_INTERVAL_SENTINEL) findings.push(`target-rate-interval-rule: ${query}: ${label}[${selector.range}] must use [$__rate_interval]`)
      for (const variable of variableNames) {
        const filtered = selector.matchers.some((matcher) => matcher.label === variable && matcher.op === '=~' && matcher.value === `$${variable}`)
        if (!filtered) findings.push(`target-variable-rule: ${query}: ${label} must match ${variable}=~"$${variable}"`)
      }
    }
    if (/histogram_quantile\s*\(/.test(expr) && target.exemplar !== true) findings.push(`target-exemplar-rule: ${query} is a latency quantile; turn exemplars on to link traces`)
  }
  return findings
}
