/**
 * The seed step: fills an empty catalogue with generated items in one `generate_series` insert,
 * under the schema advisory lock so replicas starting together seed it once.
 */
import type { DbPool } from '../plugins/db-pool.ts'
import { SCHEMA_LOCK_KEY } from './migrations.ts'

/** Categories of seeded items; `GET /api/items?category=` filters on them. */
export const SEED_CATEGORIES: readonly string[] = Object.freeze(['books', 'games', 'garden', 'kitchen', 'music', 'sports', 'tools', 'toys'])

/**
 * Inserts `rows` items if the catalogue is empty. Item n gets SKU `SEED-<n>`, category
 * `SEED_CATEGORIES[n % 8]`, and a price and stock that vary with n.
 * @returns how many rows it inserted (0 when the catalogue already had items or `rows` is 0).
 * @throws DemoAppError (503) when the database is unreachable.
 */
export async function seedCatalogue (db: DbPool, rows: number): Promise<number> {
  if (rows <= 0) return 0
  return await db.withClient(async (client) => {
    await client.query('BEGIN')
    try {
      // Start-up work may take longer than a request's statement timeout (a large seed, an index build).
      await client.query('SET LOCAL statement_timeout = 0')
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY])
      const { rows: existing } = await client.query('SELECT 1 FROM items LIMIT 1')
      let inserted = 0
      if (existing.length === 0) {
        const result = await client.query(
          `INSERT INTO items (sku, name, category, price_cents, stock)
           SELECT 'SEED-' || lpad(n::text, 7, '0'),
                  'Item ' || n,
                  ($2::text[])[1 + n % cardinality($2::text[])],
                  100 + (n * 7919) % 99900,
                  (n * 31) % 500
           FROM generate_series(1, $1::integer) AS n`,
          [rows, SEED_CATEGORIES])
        inserted = result.rowCount ?? 0
      }
      await client.query('COMMIT')
      return inserted
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  })
}
