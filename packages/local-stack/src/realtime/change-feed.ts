import type { Sql } from '@omnihub/database';
import postgres from 'postgres';
import type { Change } from './bindings.ts';

export const REALTIME_PUBLICATION = 'supabase_realtime';

/** A change plus what identifies its row, for the per-subscriber RLS check. */
export interface FeedItem {
  change: Change;
  /** Primary-key values of the row (empty when the table has none). */
  key: Record<string, unknown>;
}

interface RelationColumn {
  name: string;
  type: number;
  key: number;
}

interface Relation {
  schema: string;
  table: string;
  columns: RelationColumn[];
  keys: RelationColumn[];
}

/**
 * Streams the changes of the tables in publication supabase_realtime, as
 * Supabase Realtime does: logical replication with pgoutput (through
 * postgres.js's subscribe, on a temporary slot that goes away with the
 * connection). Changes are handed on one at a time, in commit order.
 */
export class ChangeFeed {
  readonly #replication: postgres.Sql;
  readonly #sql: Sql;
  readonly #typeNames = new Map<number, string>();
  #queue: Promise<void> = Promise.resolve();

  private constructor(replication: postgres.Sql, sql: Sql) {
    this.#replication = replication;
    this.#sql = sql;
  }

  /** Throws when logical replication is not available (wal_level is not logical, or no replication right). */
  static async start(
    databaseUrl: string,
    sql: Sql,
    deliver: (item: FeedItem) => Promise<void>,
    onError: (error: unknown) => void,
  ): Promise<ChangeFeed> {
    const replication = postgres(databaseUrl, {
      publications: REALTIME_PUBLICATION,
      onnotice: () => {},
      connection: { application_name: 'omnihub-realtime' },
      // Times stay Postgres's text: a JS Date would cut microseconds off (asJson re-renders them).
      types: {
        timestamptzText: {
          to: 1184,
          from: [1184],
          serialize: String,
          parse: (text: string) => text,
        },
        timestampText: { to: 1114, from: [1114], serialize: String, parse: (text: string) => text },
        dateText: { to: 1082, from: [1082], serialize: String, parse: (text: string) => text },
      },
    });
    const feed = new ChangeFeed(replication, sql);
    await replication.subscribe('*', (row, info) => {
      // Serial: a subscriber must see queued → running → succeeded in that order.
      feed.#queue = feed.#queue
        .then(async () =>
          deliver(
            await feed.#toItem(
              row as Record<string, unknown> | null,
              info as unknown as ChangeInfo,
            ),
          ),
        )
        .catch(onError);
    });
    return feed;
  }

  async stop(): Promise<void> {
    await this.#replication.end({ timeout: 2 }).catch(() => {});
    await this.#queue;
  }

  async #toItem(row: Record<string, unknown> | null, info: ChangeInfo): Promise<FeedItem> {
    const { relation } = info;
    const columns = await Promise.all(
      relation.columns.map(async (column) => ({
        name: column.name,
        type: await this.#typeName(column.type),
      })),
    );
    const keyOf = (source: Record<string, unknown> | null) =>
      Object.fromEntries(
        relation.keys.map((column) => [column.name, source?.[column.name] ?? null]),
      );
    const type = info.command.toUpperCase() as Change['type'];
    const base = {
      type,
      schema: relation.schema,
      table: relation.table,
      // postgres.js does not hand on the transaction's commit time; the time it arrives is within milliseconds of it.
      commit_timestamp: new Date().toISOString(),
      columns,
      errors: null,
    } as const;
    if (type === 'DELETE') {
      // Without REPLICA IDENTITY FULL a delete carries only the key, as on Supabase.
      const key = keyOf(row);
      return {
        change: { ...base, record: {}, old_record: await this.#asJson(relation, key, true) },
        key,
      };
    }
    const record = await this.#asJson(relation, row ?? {}, false);
    const key = keyOf(row);
    const old = info.old
      ? await this.#asJson(relation, keyOf(info.old), true)
      : await this.#asJson(relation, key, true);
    return { change: { ...base, record, old_record: type === 'UPDATE' ? old : {} }, key };
  }

  /**
   * The row as Postgres renders it in JSON (what PostgREST returns too):
   * the replicated values are cast back through the table's row type.
   */
  async #asJson(
    relation: Relation,
    values: Record<string, unknown>,
    keysOnly: boolean,
  ): Promise<Record<string, unknown>> {
    const [result] = await this.#sql`
      select to_jsonb(jsonb_populate_record(null::${this.#sql(`${relation.schema}.${relation.table}`)}, ${this.#sql.json(values as never)}::jsonb)) as r`;
    const full = result!.r as Record<string, unknown>;
    if (!keysOnly) return full;
    return Object.fromEntries(Object.keys(values).map((name) => [name, full[name]]));
  }

  async #typeName(oid: number): Promise<string> {
    let name = this.#typeNames.get(oid);
    if (name === undefined) {
      const [row] = await this.#sql`select typname from pg_catalog.pg_type where oid = ${oid}`;
      name = (row?.typname as string | undefined) ?? String(oid);
      this.#typeNames.set(oid, name);
    }
    return name;
  }
}

interface ChangeInfo {
  command: 'insert' | 'update' | 'delete';
  relation: Relation;
  key?: boolean;
  old?: Record<string, unknown> | null;
}
