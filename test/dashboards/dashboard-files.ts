/**
 * Reads the committed dashboards and Prometheus rule files, and turns Grafana's query text into
 * plain PromQL. Shared by the lint, the PromQL parse check and the integration test.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'

export const ROOT = resolve(import.meta.dirname, '../..')
export const DASHBOARD_DIR = join(ROOT, 'dashboards')
export const RULES_DIR = join(ROOT, 'compose/prometheus/rules')

/** The parts of a Grafana panel the checks read. */
export interface Panel {
  id?: number
  type: string
  title?: string
  description?: string
  datasource?: { type?: string, uid?: string }
  fieldConfig?: { defaults?: { unit?: string } }
  targets?: PanelTarget[]
  panels?: Panel[]
}

/** One query of a panel. */
export interface PanelTarget {
  refId?: string
  expr?: string
  exemplar?: boolean
  datasource?: { type?: string, uid?: string }
}

/** A templating variable. */
export interface Variable {
  name: string
  type: string
  label?: string
  query?: string | { query?: string }
  definition?: string
  datasource?: { type?: string, uid?: string }
  allValue?: string
  includeAll?: boolean
  multi?: boolean
}

/** The parts of a dashboard the checks read. */
export interface Dashboard {
  uid?: string
  title?: string
  schemaVersion?: number
  templating?: { list?: Variable[] }
  panels?: Panel[]
}

/** Every dashboard file, by file name. */
export function loadDashboards (): Array<{ file: string, dashboard: Dashboard }> {
  return readdirSync(DASHBOARD_DIR).filter((name) => name.endsWith('.json')).sort().map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Dashboard
  }))
}

/** Every panel, rows' nested panels included, rows themselves left out. */
export function panelsOf (dashboard: Dashboard): Panel[] {
  const out: Panel[] = []
  const visit = (panels: readonly Panel[] | undefined): void => {
    for (const panel of panels ?? []) {
      if (panel.type === 'row') visit(panel.panels)
      else out.push(panel)
    }
  }
  visit(dashboard.panels)
  return out
}

/** The query variables (not the data source one) of a dashboard. */
export function queryVariables (dashboard: Dashboard): Variable[] {
  return (dashboard.templating?.list ?? []).filter((variable) => variable.type === 'query')
}

/** The query text of a query variable (`label_values(…)` and the like). */
export function variableQuery (variable: Variable): string {
  return typeof variable.query === 'string' ? variable.query : variable.query?.query ?? variable.definition ?? ''
}

/**
 * The PromQL selector inside a Grafana variable query (`label_values(EXPR, label)`,
 * `query_result(EXPR)`), or `undefined` for `label_values(label)` / `label_names()`.
 */
export function variableQueryExpression (query: string): string | undefined {
  const labelValues = /^\s*label_values\(\s*(.+)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query)
  if (labelValues !== null) return labelValues[1]
  const queryResult = /^\s*query_result\(\s*(.+)\s*\)\s*$/s.exec(query)
  if (queryResult !== null) return queryResult[1]
  return undefined
}

/**
 * Grafana's query text as PromQL: `$__rate_interval` (and `$__interval`, `$__range`) become
 * `rateInterval`; a variable used as `"$name"` inside a matcher becomes `allValue` (the regex
 * "All" stands for). Other variables are left alone so the parse fails on them.
 */
export function toPromql (expr: string, rateInterval: string, allValue = '.+'): string {
  return expr
    .replaceAll(/\$__(rate_interval|interval|range)\b/g, rateInterval)
    .replaceAll(/"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"/g, JSON.stringify(allValue))
}

/** A rule as Prometheus's rule files hold it. */
export interface Rule {
  record?: string
  alert?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** Every rule of every file in compose/prometheus/rules, with its file and group. */
export function loadRules (): Array<{ file: string, group: string, rule: Rule }> {
  const out: Array<{ file: string, group: string, rule: Rule }> = []
  for (const file of readdirSync(RULES_DIR).filter((name) => name.endsWith('.yml')).sort()) {
    const doc = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: Array<{ name: string, rules: Rule[] }> }
    for (const group of doc.groups) {
      for (const rule of group.rules) out.push({ file, group: group.name, rule })
    }
  }
  return out
}
