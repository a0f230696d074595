/**
 * Validation of Kubernetes manifests for the tests, with the official schemas as the
 * kubernetes-models packages ship them:
 * - {@link validateResource}: the JSON Schema of the resource's kind (types, enums, required
 *   fields), through the model's own ajv validator;
 * - {@link findUnknownFields}: field names, through the models' TypeScript interfaces. Kubernetes'
 *   OpenAPI schemas leave objects open, so a misspelt field (`readOnlyRootFileSystem`) passes the
 *   JSON Schema; TypeScript's excess-property check on an object literal does not let it through.
 * - {@link kustomizeBuild}: `kubectl kustomize`, i.e. the real kustomize compiled into kubectl.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { parseAllDocuments } from 'yaml'
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'

const execFileAsync = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

/** A parsed Kubernetes object and where it came from (`file#index` or `kustomize <dir>#index`). */
export interface Resource {
  source: string
  object: Record<string, unknown>
}

interface Kind {
  model: new (data: never) => { validate (): void }
  /** Module and interface name of the TypeScript type. */
  typeModule: string
  typeName: string
}

/** Every kind the manifests may use, by `apiVersion/kind`. Another kind is a test failure. */
const KINDS: Record<string, Kind> = {
  'v1/ConfigMap': { model: ConfigMap, typeModule: 'kubernetes-models/v1/ConfigMap', typeName: 'IConfigMap' },
  'v1/Namespace': { model: Namespace, typeModule: 'kubernetes-models/v1/Namespace', typeName: 'INamespace' },
  'v1/Secret': { model: Secret, typeModule: 'kubernetes-models/v1/Secret', typeName: 'ISecret' },
  'v1/Service': { model: Service, typeModule: 'kubernetes-models/v1/Service', typeName: 'IService' },
  'v1/ServiceAccount': { model: ServiceAccount, typeModule: 'kubernetes-models/v1/ServiceAccount', typeName: 'IServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, typeModule: 'kubernetes-models/apps/v1/Deployment', typeName: 'IDeployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, typeModule: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', typeName: 'IHorizontalPodAutoscaler' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, typeModule: 'kubernetes-models/policy/v1/PodDisruptionBudget', typeName: 'IPodDisruptionBudget' },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor, typeModule: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor', typeName: 'IPodMonitor' },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule, typeModule: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', typeName: 'IPrometheusRule' }
}

function kindKey (object: Record<string, unknown>): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`
}

/** Parses every YAML document of `text`; throws on a YAML error. Empty documents are skipped. */
export function parseResources (text: string, source: string): Resource[] {
  const resources: Resource[] = []
  parseAllDocuments(text).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${source}#${index}: ${doc.errors[0]?.message}`, { cause: doc.errors[0] })
    const object: unknown = doc.toJS()
    if (object == null) return
    if (typeof object !== 'object' || Array.isArray(object)) throw new Error(`${source}#${index}: not a mapping`)
    resources.push({ source: `${source}#${index}`, object: object as Record<string, unknown> })
  })
  return resources
}

/** Reads and parses a manifest file; `source` names it relative to the repository. */
export async function readResources (path: string): Promise<Resource[]> {
  return parseResources(await readFile(path, 'utf8'), path.slice(root.length + 1))
}

/** Renders a kustomization with `kubectl kustomize` and parses the output. */
export async function kustomizeBuild (dir: string): Promise<Resource[]> {
  const { stdout } = await execFileAsync('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new Error('kubectl is not on PATH: the Kubernetes tests build the kustomizations with `kubectl kustomize`', { cause: error })
    }
    throw error
  })
  return parseResources(stdout, `kustomize ${dir.startsWith(root) ? dir.slice(root.length + 1) : dir}`)
}

/** Problems of one resource against its kind's JSON Schema; an unknown kind is one problem. */
export function validateResource (resource: Resource): string[] {
  const kind = KINDS[kindKey(resource.object)]
  if (kind === undefined) return [`${resource.source}: no schema for ${kindKey(resource.object)}; add the kind to test/kubernetes/kubernetes-schemas.ts`]
  try {
    new kind.model(resource.object as never).validate()
    return []
  } catch (error) {
    return [`${resource.source} (${kindKey(resource.object)}): ${error instanceof Error ? error.message : String(error)}`]
  }
}

/**
 * Field names no Kubernetes type declares, found by type-checking every resource as an object
 * literal of its kind's interface. Resources of unknown kinds are left to {@link validateResource}.
 * @returns one line per TypeScript diagnostic, naming the resource.
 */
export function findUnknownFields (resources: readonly Resource[]): string[] {
  const fileName = resolve(root, 'test/kubernetes/__manifests__.mts')
  const imports = new Map<string, string>()
  const lines: string[] = []
  const owners: Array<{ line: number, source: string }> = []
  for (const [index, resource] of resources.entries()) {
    const kind = KINDS[kindKey(resource.object)]
    if (kind === undefined) continue
    imports.set(kind.typeName, kind.typeModule)
    owners.push({ line: lines.length, source: resource.source })
    lines.push(...`export const r${index}: ${kind.typeName} = ${JSON.stringify(resource.object, null, 2)}`.split('\n'))
  }
  const header = [...imports].map(([name, module]) => `import type { ${name} } from '${module}'`)
  const text = [...header, ...lines].join('\n')

  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2024,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: []
  }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName ? ts.createSourceFile(name, text, languageVersion, true) : getSourceFile(name, languageVersion, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => name === fileName || fileExists(name)
  const program = ts.createProgram([fileName], options, host)
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) return message
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line - header.length
    const owner = owners.findLast((o) => o.line <= line)
    const near = lines[line]?.trim() ?? ''
    return `${owner?.source ?? 'manifests'}: ${message} (at ${near})`
  })
}
