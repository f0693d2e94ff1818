/**
 * Identity resolution written the way a user of an in-browser SQL database would write it:
 * a `profiles` table, an `identifiers` table keyed by (type, value), INSERT … ON CONFLICT.
 * The same logic runs on PGlite and on SQLite-wasm; only the SQL dialect differs.
 */

/**
 * @typedef {object} SqlSide what the shared logic needs from one database
 * @property {(pairs: string[][]) => Promise<number[]>} lookup distinct profile ids of the pairs
 * @property {(attributes: string) => Promise<number>} insertProfile returns the new id
 * @property {(id: number, attributes: string) => Promise<void>} upsertProfile merges attributes
 * @property {(pairs: string[][], id: number) => Promise<void>} insertIdentifiers skips known ones
 * @property {(keep: number, others: number[]) => Promise<void>} merge repoints and deletes
 * @property {<T>(work: () => Promise<T>) => Promise<T>} transaction
 * @property {() => Promise<number>} countProfiles
 */

/**
 * @param {Record<string, string[]>} identities
 * @returns {string[][]} [type, value] pairs
 */
function pairsOf(identities) {
  return Object.entries(identities).flatMap(([type, values]) => values.map((value) => [type, value]));
}

/**
 * Applies one record: find the profiles its identifiers belong to; none → create; one →
 * upsert attributes and add new identifiers; several → reject, or merge into the oldest.
 * @param {SqlSide} side
 * @param {{ identities: Record<string, string[]>, attributes: object }} record
 * @param {'reject' | 'merge'} policy
 * @returns {Promise<boolean>} false when the reject policy refused the record
 */
export async function upsertRecord(side, record, policy) {
  const pairs = pairsOf(record.identities);
  const attributes = JSON.stringify(record.attributes);
  const ids = await side.lookup(pairs);
  if (ids.length > 1 && policy === 'reject') return false;
  let id;
  if (ids.length === 0) {
    id = await side.insertProfile(attributes);
  } else {
    ids.sort((x, y) => x - y);
    id = ids[0];
    if (ids.length > 1) await side.merge(id, ids.slice(1));
    await side.upsertProfile(id, attributes);
  }
  await side.insertIdentifiers(pairs, id);
  return true;
}

/**
 * PGlite (Postgres): a fresh, empty schema in `db` (dropping an earlier one).
 * @param {any} db a PGlite instance
 * @returns {Promise<SqlSide>}
 */
export async function pgliteSide(db) {
  await db.exec(`
    DROP TABLE IF EXISTS profiles, identifiers;
    CREATE TABLE profiles (id SERIAL PRIMARY KEY, attributes JSONB NOT NULL);
    CREATE TABLE identifiers (type TEXT NOT NULL, value TEXT NOT NULL, profile_id INT NOT NULL,
      PRIMARY KEY (type, value));
    CREATE INDEX identifiers_profile ON identifiers (profile_id);`);
  /** @type {any} */
  let current = db;
  const tuples = (/** @type {number} */ n, /** @type {number} */ width, /** @type {number} */ first = 1) =>
    Array.from({ length: n }, (_, i) =>
      `(${Array.from({ length: width }, (__, j) => `$${first + i * width + j}`).join(', ')})`).join(', ');
  return {
    async lookup(pairs) {
      const sql = `SELECT DISTINCT profile_id FROM identifiers WHERE (type, value) IN (${tuples(pairs.length, 2)})`;
      const { rows } = await current.query(sql, pairs.flat());
      return rows.map((/** @type {any} */ row) => row.profile_id);
    },
    async insertProfile(attributes) {
      const { rows } = await current.query('INSERT INTO profiles (attributes) VALUES ($1) RETURNING id', [attributes]);
      return rows[0].id;
    },
    async upsertProfile(id, attributes) {
      await current.query(
        `INSERT INTO profiles (id, attributes) VALUES ($1, $2) ON CONFLICT (id)
         DO UPDATE SET attributes = profiles.attributes || excluded.attributes`, [id, attributes]);
    },
    async insertIdentifiers(pairs, id) {
      const sql = `INSERT INTO identifiers (type, value, profile_id) VALUES ${tuples(pairs.length, 3)}
        ON CONFLICT (type, value) DO NOTHING`;
      await current.query(sql, pairs.flatMap(([type, value]) => [type, value, id]));
    },
    async merge(keep, others) {
      await current.query('UPDATE identifiers SET profile_id = $1 WHERE profile_id = ANY($2)', [keep, others]);
      await current.query('DELETE FROM profiles WHERE id = ANY($1)', [others]);
    },
    async transaction(work) {
      return db.transaction(async (/** @type {any} */ tx) => {
        current = tx;
        try {
          return await work();
        } finally {
          current = db;
        }
      });
    },
    async countProfiles() {
      return (await db.query('SELECT count(*)::int AS n FROM profiles')).rows[0].n;
    },
  };
}

/**
 * SQLite-wasm (oo1 API, prepared statements reused): a fresh, empty schema in `db`.
 * @param {any} db an `sqlite3.oo1.DB`
 * @returns {Promise<SqlSide>}
 */
export async function sqliteSide(db) {
  db.exec(`
    DROP TABLE IF EXISTS profiles;
    DROP TABLE IF EXISTS identifiers;
    CREATE TABLE profiles (id INTEGER PRIMARY KEY, attributes TEXT NOT NULL);
    CREATE TABLE identifiers (type TEXT NOT NULL, value TEXT NOT NULL, profile_id INTEGER NOT NULL,
      PRIMARY KEY (type, value)) WITHOUT ROWID;
    CREATE INDEX identifiers_profile ON identifiers (profile_id);`);
  /** @type {Map<string, any>} */
  const statements = new Map();
  /**
   * @param {string} sql
   * @param {unknown[]} params
   * @returns {unknown[]} the first column of every row
   */
  const run = (sql, params) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    const rows = [];
    try {
      if (params.length > 0) statement.bind(params);
      while (statement.step()) rows.push(statement.get(0));
    } finally {
      statement.reset(true);
    }
    return rows;
  };
  const tuples = (/** @type {number} */ n, /** @type {number} */ width) =>
    Array.from({ length: n }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');
  return {
    async lookup(pairs) {
      const sql = `SELECT DISTINCT profile_id FROM identifiers WHERE (type, value) IN (VALUES ${tuples(pairs.length, 2)})`;
      return /** @type {number[]} */ (run(sql, pairs.flat()));
    },
    async insertProfile(attributes) {
      return /** @type {number} */ (run('INSERT INTO profiles (attributes) VALUES (?) RETURNING id', [attributes])[0]);
    },
    async upsertProfile(id, attributes) {
      run(`INSERT INTO profiles (id, attributes) VALUES (?, ?) ON CONFLICT (id)
           DO UPDATE SET attributes = json_patch(profiles.attributes, excluded.attributes)`, [id, attributes]);
    },
    async insertIdentifiers(pairs, id) {
      run(`INSERT INTO identifiers (type, value, profile_id) VALUES ${tuples(pairs.length, 3)}
           ON CONFLICT (type, value) DO NOTHING`, pairs.flatMap(([type, value]) => [type, value, id]));
    },
    async merge(keep, others) {
      const list = others.map(() => '?').join(', ');
      run(`UPDATE identifiers SET profile_id = ? WHERE profile_id IN (${list})`, [keep, ...others]);
      run(`DELETE FROM profiles WHERE id IN (${list})`, others);
    },
    async transaction(work) {
      db.exec('BEGIN');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    async countProfiles() {
      return /** @type {number} */ (run('SELECT count(*) FROM profiles', [])[0]);
    },
  };
}
