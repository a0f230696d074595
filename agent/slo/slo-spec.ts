/**
 * The SLO spec: Sloth's `prometheus/v1` format (https://sloth.dev), so a spec written for Sloth
 * works here and the other way round. Parsed once, every problem collected with `file:line:col`,
 * the result frozen — the same way agent config files are loaded.
 *
 * Only event-based SLIs (`sli.events`: an error query and a total query) are accepted: the
 * generator divides the two after aggregating each, and needs them separately to measure the error
 * budget over the whole period. `sli.raw` (a ready-made ratio) and `sli.plugin` are refused.
 */
import { LineCounter, parseDocument } from 'yaml'
import type { Document } from 'yaml'
import { z } from 'zod'
import { ConfigError, formatConfigPath, sortConfigProblems } from '../config/config-problem.ts'
import type { ConfigPath, ConfigProblem } from '../config/config-problem.ts'
import { configErrorMap, knownKeysAt, unknownKeyMessage } from '../config/issue-messages.ts'
import { deepFreeze } from '../config/deep-freeze.ts'
import { findNode, positionOf } from '../config/yaml-locations.ts'

/** The one spec version understood. */
export const SLO_SPEC_VERSION = 'prometheus/v1'

/** The placeholder the SLI queries put where the window goes, as Sloth spells it. */
export const WINDOW_PLACEHOLDER = /\{\{\s*\.window\s*\}\}/g

/** Labels the generator sets itself; a spec may not set them. */
export const RESERVED_LABELS = ['sloth_id', 'sloth_service', 'sloth_slo', 'sloth_window', 'sloth_severity'] as const

/** Annotations every alert must end up with (from `alerting.annotations` or the page/ticket ones). */
export const REQUIRED_ANNOTATIONS = ['summary', 'description', 'runbook_url'] as const

/** One of the two alerts of an SLO after merging `alerting` with `page_alert` / `ticket_alert`. */
export interface SloAlertSpec {
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

/** An SLO as the generator needs it. */
export interface SloDefinition {
  /** `<service>-<name>`, the `sloth_id` label. */
  readonly id: string
  readonly name: string
  readonly description: string | undefined
  /** Target share of good events, in percent (99.9). */
  readonly objective: number
  /** Labels added to every recording and alert of this SLO (spec-wide labels included). */
  readonly labels: Readonly<Record<string, string>>
  /** PromQL returning the rate of bad events, with `{{.window}}` where the range goes. */
  readonly errorQuery: string
  /** PromQL returning the rate of all events, with `{{.window}}` where the range goes. */
  readonly totalQuery: string
  readonly alertName: string
  /** `undefined` when `page_alert.disable` is true. */
  readonly page: SloAlertSpec | undefined
  /** `undefined` when `ticket_alert.disable` is true. */
  readonly ticket: SloAlertSpec | undefined
}

/** A parsed, validated spec. */
export interface SloSpec {
  readonly service: string
  readonly slos: readonly SloDefinition[]
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const ALERT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const labels = z.record(
  z.string().regex(LABEL_NAME, 'label names are letters, digits and `_`, not starting with a digit')
    .refine((name) => !(RESERVED_LABELS as readonly string[]).includes(name), 'is set by the generator; choose another label name'),
  z.string()
)
const annotations = z.record(z.string(), z.string())
const query = z.string().trim().min(1)
  .refine((text) => text.match(WINDOW_PLACEHOLDER) !== null, 'must contain `{{.window}}` where the range of each window goes')

const alertSettings = z.strictObject({
  disable: z.boolean().optional(),
  labels: labels.optional(),
  annotations: annotations.optional()
})

const slo = z.strictObject({
  name: z.string().regex(NAME, 'must start with a letter or digit and hold only letters, digits, `_`, `.` and `-`'),
  description: z.string().optional(),
  objective: z.number().gt(0).lt(100),
  labels: labels.optional(),
  sli: z.strictObject({
    events: z.strictObject({ error_query: query, total_query: query }).optional(),
    raw: z.unknown().optional(),
    plugin: z.unknown().optional()
  }).superRefine((sli, context) => {
    if (sli.raw !== undefined) context.addIssue({ code: 'custom', path: ['raw'], message: 'raw error ratios are not supported: a ratio cannot be re-aggregated over the SLO period; give `events` (error_query and total_query) instead' })
    if (sli.plugin !== undefined) context.addIssue({ code: 'custom', path: ['plugin'], message: 'SLI plugins are not supported; give `events` (error_query and total_query) instead' })
    if (sli.events === undefined && sli.raw === undefined && sli.plugin === undefined) context.addIssue({ code: 'custom', path: ['events'], message: 'is required' })
  }),
  alerting: z.strictObject({
    name: z.string().regex(ALERT_NAME, 'must be a valid alert name: letters, digits and `_`, not starting with a digit'),
    labels: labels.optional(),
    annotations: annotations.optional(),
    page_alert: alertSettings.optional(),
    ticket_alert: alertSettings.optional()
  })
})

const specSchema = z.strictObject({
  version: z.literal(SLO_SPEC_VERSION),
  service: z.string().regex(NAME, 'must start with a letter or digit and hold only letters, digits, `_`, `.` and `-`'),
  labels: labels.optional(),
  slos: z.array(slo).min(1)
})

type SpecInput = z.infer<typeof specSchema>
type SloInput = SpecInput['slos'][number]

/**
 * Parses and validates spec `text` (YAML).
 * @param file the file name shown in problems
 * @throws {ConfigError} `OUTRIGGER_ERR_CONFIG_READ` when the text is not YAML; otherwise
 *   `OUTRIGGER_ERR_CONFIG_INVALID` listing every problem with its path and `file:line:col`.
 */
export function parseSloSpec (text: string, file?: string): SloSpec {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const at = (path: ConfigPath, node = findNode(doc, path)): Pick<ConfigProblem, 'file' | 'line' | 'col'> =>
    ({ ...(file === undefined ? {} : { file }), ...positionOf(node, lineCounter) })

  const [firstError] = doc.errors
  if (firstError !== undefined) {
    const problem: ConfigProblem = {
      code: 'OUTRIGGER_ERR_CONFIG_READ',
      path: '',
      message: `not valid YAML: ${firstError.message.split('\n')[0] ?? ''}`,
      ...(file === undefined ? {} : { file }),
      ...lineCounter.linePos(firstError.pos[0])
    }
    throw new ConfigError('OUTRIGGER_ERR_CONFIG_READ', `${file ?? 'the SLO spec'} is not valid YAML:`, [problem])
  }

  const result = specSchema.safeParse(doc.toJS({ maxAliasCount: 100 }), { error: configErrorMap })
  const problems: ConfigProblem[] = []
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...problemsFromIssue(issue, doc, at))
    throw invalid(file, problems)
  }
  const spec = result.data
  const slos = spec.slos.map((input, index) => toDefinition(spec, input, index, problems, at))
  const seen = new Map<string, number>()
  spec.slos.forEach((input, index) => {
    const first = seen.get(input.name)
    if (first !== undefined) problems.push({ code: 'OUTRIGGER_ERR_CONFIG_INVALID', path: formatConfigPath(['slos', index, 'name']), message: `duplicate SLO name \`${input.name}\` (also slos[${first}])`, ...at(['slos', index, 'name']) })
    else seen.set(input.name, index)
  })
  if (problems.length > 0) throw invalid(file, problems)
  return deepFreeze({ service: spec.service, slos })
}

function toDefinition (
  spec: SpecInput,
  input: SloInput,
  index: number,
  problems: ConfigProblem[],
  at: (path: ConfigPath) => Pick<ConfigProblem, 'file' | 'line' | 'col'>
): SloDefinition {
  const sloLabels = { ...spec.labels, ...input.labels }
  const { alerting } = input
  const merge = (severity: 'page' | 'ticket'): SloAlertSpec | undefined => {
    const key = severity === 'page' ? 'page_alert' : 'ticket_alert'
    const settings = alerting[key]
    if (settings?.disable === true) return undefined
    const merged = {
      labels: { severity, ...sloLabels, ...alerting.labels, ...settings?.labels },
      annotations: { ...alerting.annotations, ...settings?.annotations }
    }
    for (const name of REQUIRED_ANNOTATIONS) {
      if ((merged.annotations[name] ?? '').trim() === '') {
        problems.push({
          code: 'OUTRIGGER_ERR_CONFIG_INVALID',
          path: formatConfigPath(['slos', index, 'alerting', 'annotations']),
          message: `the ${severity} alert has no \`${name}\` annotation; set it in \`alerting.annotations\` or \`alerting.${key}.annotations\``,
          ...at(['slos', index, 'alerting'])
        })
      }
    }
    return merged
  }
  const events = input.sli.events as NonNullable<SloInput['sli']['events']>
  return {
    id: `${spec.service}-${input.name}`,
    name: input.name,
    description: input.description,
    objective: input.objective,
    labels: sloLabels,
    errorQuery: events.error_query,
    totalQuery: events.total_query,
    alertName: alerting.name,
    page: merge('page'),
    ticket: merge('ticket')
  }
}

function problemsFromIssue (
  issue: z.core.$ZodIssue,
  doc: Document,
  at: (path: ConfigPath, node?: ReturnType<typeof findNode>) => Pick<ConfigProblem, 'file' | 'line' | 'col'>
): ConfigProblem[] {
  const path = issue.path as Array<string | number>
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(specSchema, path)
    return issue.keys.map((key) => ({
      code: 'OUTRIGGER_ERR_CONFIG_INVALID',
      path: formatConfigPath([...path, key]),
      message: unknownKeyMessage(key, known),
      ...at([...path, key], findNode(doc, path, key))
    }))
  }
  // A bad label name arrives wrapped ("Invalid key in record"); the inner issue says what is wrong.
  const message = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message
  return [{ code: 'OUTRIGGER_ERR_CONFIG_INVALID', path: formatConfigPath(path), message, ...at(path) }]
}

function invalid (file: string | undefined, problems: ConfigProblem[]): ConfigError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  return new ConfigError('OUTRIGGER_ERR_CONFIG_INVALID', `${file ?? 'the SLO spec'} is invalid (${count}):`, sortConfigProblems(problems))
}
