/**
 * Connection draining for graceful shutdown. fastify's `close()` shuts idle keep-alive
 * connections and answers new requests with 503, but a request already in flight when `close()`
 * starts leaves its keep-alive connection open after the answer, and `server.close()` would wait
 * for the client's keep-alive timeout. Answers sent while closing say `Connection: close`.
 */
import fp from 'fastify-plugin'

/** Adds `Connection: close` to every HTTP/1 answer sent after `close()` began. */
export const connectionDrainingPlugin = fp(async (app) => {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (request, reply) => {
    if (closing && request.raw.httpVersionMajor === 1) reply.header('connection', 'close')
  })
}, { name: 'connection-draining', fastify: '5.x' })
