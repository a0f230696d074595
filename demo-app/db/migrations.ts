/**
 * Schema migrations, run at start-up. Each runs once, in order, recorded in `schema_migrations`.
 * The whole run is one transaction holding a transaction-scoped advisory lock, so replicas that
 * start together queue up: the first applies the migrations, the others find them applied.
 */
import type { DbPool } from '../plugins/db-pool.ts'

/** One schema change. Versions are never reused or edited once released; add a new one instead. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** Advisory-lock key shared by migrations and the seed step (any fixed bigint unique to this app). */
export const SCHEMA_LOCK_KEY = 7_270_417_001

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'create_items',
    sql: `CREATE TABLE items (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sku text NOT NULL UNIQUE,
      name text NOT NULL,
      category text NOT NULL,
      price_cents integer NOT NULL CHECK (price_cents >= 0),
      stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`
  },
  {
    version: 2,
    name: 'index_items_category_price',
    sql: 'CREATE INDEX items_category_price_idx ON items (category, price_cents, id)'
  }
])

/**
 * Applies the migrations that have not run yet.
 * @returns the versions applied by this call (empty when the schema was current).
 * @throws DemoAppError (503) when the database is unreachable; the `pg` error when a migration fails
 *   (the transaction is rolled back, nothing is half-applied).
 */
export async function runMigrations (db: DbPool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return await db.withClient(async (client) => {
    await client.query('BEGIN')
    try {
      // Start-up work may take longer than a request's statement timeout (a large seed, an index build).
      await client.query('SET LOCAL statement_timeout = 0')
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY])
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
      const done = new Set(rows.map((row) => row.version))
      const applied: number[] = []
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(migration.version)) continue
        await client.query(migration.sql)
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
        applied.push(migration.version)
      }
      await client.query('COMMIT')
      return applied
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  })
}
