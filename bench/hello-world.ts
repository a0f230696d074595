/**
 * The ceiling: a bare fastify app answering `GET /` with a small JSON object, no logging, no hooks.
 * Nothing built on fastify on this machine answers faster, so the demo app's cached read is
 * reported as a fraction of it. Listens on 127.0.0.1:`PORT`; stops on SIGTERM.
 */
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/', async () => ({ hello: 'world' }))

const port = Number(process.env.PORT ?? 0)
await app.listen({ port, host: '127.0.0.1' })
process.once('SIGTERM', () => { void app.close() })
