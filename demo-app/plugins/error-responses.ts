/**
 * One JSON error shape for every failure: `{ statusCode, error, code, message, field? }`.
 * Request validation is strict: bodies are never coerced (`"12"` is not an integer) and unknown
 * fields are rejected rather than silently dropped; path and query parameters, which are strings
 * on the wire, are coerced to their declared types. A client's mistake is always a 4xx.
 */
import { STATUS_CODES } from 'node:http'
import { Ajv, type ErrorObject, type Options as AjvOptions, type ValidateFunction } from 'ajv'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify'
import fp from 'fastify-plugin'
import { DemoAppError, type DemoErrorCode, type ErrorBody } from '../errors.ts'

const SHARED_AJV_OPTIONS: AjvOptions = {
  removeAdditional: false,
  useDefaults: true,
  allErrors: false,
  // Keeps the offending value on each error, so the message can show it.
  verbose: true
}

/** The prefix a message uses for each part of the request. */
const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' }

function shownValue (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/** Turns the first schema error into a sentence naming the field, and the field itself. */
export function describeValidationError (part: string, error: ErrorObject): { field: string | undefined, message: string } {
  const partName = PART_NAMES[part] ?? part
  const path = error.instancePath.split('/').slice(1).join('.')
  const params = error.params as Record<string, unknown>
  if (error.keyword === 'required') {
    const field = [path, String(params.missingProperty)].filter((s) => s !== '').join('.')
    return { field, message: `${partName}.${field} is required` }
  }
  if (error.keyword === 'additionalProperties') {
    const field = [path, String(params.additionalProperty)].filter((s) => s !== '').join('.')
    return { field, message: `${partName}.${field} is not a known field` }
  }
  const field = path === '' ? undefined : path
  const subject = field === undefined ? partName : `${partName}.${field}`
  return { field, message: `${subject} ${error.message ?? 'is invalid'}, got ${shownValue(error.data)}` }
}

/** Maps any error to the JSON error body; 5xx only for the server's own failures. */
export function toErrorBody (error: FastifyError | DemoAppError | Error): ErrorBody {
  const body = (statusCode: number, code: DemoErrorCode, message: string, field?: string): ErrorBody => ({
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    code,
    message,
    ...(field === undefined ? {} : { field })
  })
  if (error instanceof DemoAppError) return body(error.statusCode, error.code, error.message, error.field)
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined && fastifyError.validation.length > 0) {
    const described = describeValidationError(fastifyError.validationContext ?? 'request', fastifyError.validation[0] as ErrorObject)
    return body(400, 'DEMO_ERR_VALIDATION', described.message, described.field)
  }
  const status = fastifyError.statusCode ?? 500
  if (status === 413) return body(413, 'DEMO_ERR_BODY_TOO_LARGE', `request body is larger than the limit: ${fastifyError.message}`)
  if (status === 415) return body(415, 'DEMO_ERR_UNSUPPORTED_MEDIA_TYPE', `request body must be application/json: ${fastifyError.message}`)
  if (status >= 400 && status < 500) {
    const what = fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'request body is not valid JSON' : 'request cannot be read'
    return body(status, 'DEMO_ERR_BAD_REQUEST', `${what}: ${fastifyError.message}`)
  }
  return body(500, 'DEMO_ERR_INTERNAL', 'internal error; the server log has the details')
}

/**
 * Wraps a coercing validator so a value coerced to a non-finite number fails. ajv coerces the
 * strings `"1e309"` and `"Infinity"` to ±Infinity and then skips `minimum`/`maximum`, which only
 * test finite numbers, so `?limit=1e309` would reach the database. Query strings and path
 * parameters are flat, so checking the top level is enough.
 */
function finiteNumbersOnly (validate: ValidateFunction): ReturnType<FastifySchemaCompiler<unknown>> {
  return (data: unknown) => {
    if (!validate(data)) return { error: validate.errors ?? [] }
    if (typeof data !== 'object' || data === null) return true
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        const error: ErrorObject = { instancePath: `/${key}`, schemaPath: `#/properties/${key}/type`, keyword: 'type', params: {}, message: 'must be a finite number', data: value }
        return { error: [error] }
      }
    }
    return true
  }
}

/** For fastify's `frameworkErrors` option: errors raised before routing (bad URL, over-long parameter) get the same body. */
export function frameworkErrorResponse (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const body = toErrorBody(error)
  void reply.code(body.statusCode).send(body)
}

/** Sets the validator compiler, the error handler and the 404 handler for the whole app. */
export const errorResponsesPlugin: FastifyPluginAsync = fp(async (app) => {
  const strict = new Ajv({ ...SHARED_AJV_OPTIONS, coerceTypes: false })
  const coercing = new Ajv({ ...SHARED_AJV_OPTIONS, coerceTypes: true })
  app.setValidatorCompiler(({ schema, httpPart }) => httpPart === 'body' ? strict.compile(schema) : finiteNumbersOnly(coercing.compile(schema)))

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const body = toErrorBody(error)
    if (body.code === 'DEMO_ERR_INTERNAL') request.log.error({ err: error }, 'request failed')
    else if (body.statusCode >= 500) request.log.warn({ code: body.code, reason: body.message }, 'dependency unavailable')
    reply.code(body.statusCode).send(body)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    const body: ErrorBody = {
      statusCode: 404,
      error: 'Not Found',
      code: 'DEMO_ERR_ROUTE_NOT_FOUND',
      message: `no route for ${request.method} ${path.length > 100 ? `${path.slice(0, 100)}…` : path}`
    }
    reply.code(404).send(body)
  })
}, { name: 'error-responses', fastify: '5.x' })
