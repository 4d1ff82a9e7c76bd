import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtKit, type JwtKit } from '../src/jwt.ts';
import { createRestApp } from '../src/rest/app.ts';
import { Catalog } from '../src/rest/catalog.ts';
import { callStatement } from '../src/rest/sql-builder.ts';

/**
 * db-max-rows and the count modes of the REST stand-in, as PostgREST has
 * them: a read returns at most db-max-rows rows; count=planned is the
 * planner's estimate; count=estimated is exact up to db-max-rows and the
 * larger of a count one row past it and the estimate beyond.
 *
 * public.rest_count_test makes the planner's estimate differ from the
 * truth: it is analyzed holding n = 1…10, then 6…10 are deleted and 11…14
 * added, with autovacuum off. The planner still thinks 10 rows (9 are
 * there), and none above 10 (4 are).
 */

let db: TestDatabase;
let jwt: JwtKit;
let token: string;
/** db-max-rows 3. */
let capped: ReturnType<typeof createRestApp>;

beforeAll(async () => {
  db = await createTestDatabase();
  jwt = await createJwtKit(randomBytes(32));
  token = (await jwt.signAccessToken({ id: crypto.randomUUID(), email: 'x@example.test' }, 's'))
    .token;
  capped = createRestApp({ sql: db.sql, jwt, maxRows: 3 });
  await db.sql`create table public.rest_count_test (n integer primary key) with (autovacuum_enabled = false)`;
  await db.sql`grant select on public.rest_count_test to authenticated`;
  await db.sql`insert into public.rest_count_test select generate_series(1, 10)`;
  await db.sql`analyze public.rest_count_test`;
  await db.sql`delete from public.rest_count_test where n > 5`;
  await db.sql`insert into public.rest_count_test select generate_series(11, 14)`;
});
afterAll(() => db?.drop());

function get(app: ReturnType<typeof createRestApp>, query: string, prefer?: string) {
  return app.request(`/rest_count_test?${query}`, {
    headers: {
      apikey: jwt.anonKey,
      authorization: `Bearer ${token}`,
      ...(prefer ? { prefer } : {}),
    },
  });
}

/** The planner's rows for the filter, asked directly: what PostgREST reports for planned counts. */
async function plannerRows(where = 'true'): Promise<number> {
  const [row] = await db.sql.unsafe(
    `explain (format json) select 1 from public.rest_count_test where ${where}`,
  );
  return (row!['QUERY PLAN'] as [{ Plan: { 'Plan Rows': number } }])[0].Plan['Plan Rows'];
}

const values = async (response: Response) =>
  ((await response.json()) as { n: number }[]).map((row) => row.n);

describe('db-max-rows', () => {
  it('caps a read at db-max-rows rows, whatever limit is asked, and pages on past it', async () => {
    const all = await get(capped, 'select=n&order=n');
    expect(await values(all)).toEqual([1, 2, 3]);
    expect(all.headers.get('content-range')).toBe('0-2/*');
    expect(await values(await get(capped, 'select=n&order=n&limit=5'))).toEqual([1, 2, 3]);
    expect(await values(await get(capped, 'select=n&order=n&limit=2'))).toEqual([1, 2]);
    expect(await values(await get(capped, 'select=n&order=n&offset=3'))).toEqual([4, 5, 11]);

    const counted = await get(capped, 'select=n&order=n', 'count=exact');
    expect(counted.status).toBe(206);
    expect(counted.headers.get('content-range')).toBe('0-2/9');
  });

  it('is Supabase’s 1000 unless set, and null lifts it', async () => {
    await db.sql`create table public.rest_count_many (n integer primary key)`;
    await db.sql`grant select on public.rest_count_many to authenticated`;
    await db.sql`insert into public.rest_count_many select generate_series(1, 1001)`;
    const read = (app: ReturnType<typeof createRestApp>) =>
      app.request('/rest_count_many?select=n', {
        headers: { apikey: jwt.anonKey, authorization: `Bearer ${token}` },
      });
    const byDefault = await read(createRestApp({ sql: db.sql, jwt }));
    expect(((await byDefault.json()) as unknown[]).length).toBe(1000);
    const unlimited = await read(createRestApp({ sql: db.sql, jwt, maxRows: null }));
    expect(((await unlimited.json()) as unknown[]).length).toBe(1001);
  });
});

describe('Prefer: count=planned', () => {
  it('reports the planner’s estimate, not a count', async () => {
    const planned = await plannerRows();
    expect(planned).not.toBe(9);
    const response = await get(capped, 'select=n&order=n', 'count=planned');
    expect(response.headers.get('content-range')).toBe(`0-2/${planned}`);
    expect(response.headers.get('preference-applied')).toBe('count=planned');
    expect(response.status).toBe(206);

    const filtered = await get(capped, 'select=n&n=gt.10', 'count=planned');
    expect(filtered.headers.get('content-range')).toBe(`0-2/${await plannerRows('n > 10')}`);
  });
});

describe('Prefer: count=estimated', () => {
  it('counts exactly up to db-max-rows', async () => {
    const response = await get(capped, 'select=n&n=lte.3', 'count=estimated');
    expect(response.headers.get('content-range')).toBe('0-2/3');
    expect(response.status).toBe(200);
    expect(response.headers.get('preference-applied')).toBe('count=estimated');
  });

  it('past db-max-rows, reports the estimate when it is larger than the count to one past', async () => {
    const planned = await plannerRows();
    expect(planned).toBeGreaterThan(4);
    const response = await get(capped, 'select=n&order=n', 'count=estimated');
    expect(response.headers.get('content-range')).toBe(`0-2/${planned}`);
  });

  it('past db-max-rows, reports db-max-rows + 1 when the estimate is lower', async () => {
    // Four rows above 10, where the planner expects about none.
    expect(await plannerRows('n > 10')).toBeLessThan(4);
    const response = await get(capped, 'select=n&n=gt.10', 'count=estimated');
    expect(response.headers.get('content-range')).toBe('0-2/4');
  });

  it('without db-max-rows, reports the larger of the exact count and the estimate', async () => {
    const unlimited = createRestApp({ sql: db.sql, jwt, maxRows: null });
    const all = await get(unlimited, 'select=n', 'count=estimated');
    expect(all.headers.get('content-range')).toBe(`0-8/${Math.max(9, await plannerRows())}`);
    const above = await get(unlimited, 'select=n&n=gt.10', 'count=estimated');
    expect(above.headers.get('content-range')).toBe('0-3/4');
  });

  it('answers HEAD with the count alone', async () => {
    const response = await capped.request('/rest_count_test?select=n&n=lte.2', {
      method: 'HEAD',
      headers: { apikey: jwt.anonKey, authorization: `Bearer ${token}`, prefer: 'count=estimated' },
    });
    expect(response.headers.get('content-range')).toBe('0-1/2');
    expect(await response.text()).toBe('');
  });
});

describe('a function call with a count', () => {
  it('calls a stable function once, as PostgREST does (without a count it is called twice)', async () => {
    await db.sql`
      create function public.rest_count_probe(p_n integer) returns jsonb
      language plpgsql stable as $$ begin return jsonb_build_object('n', p_n); end $$`;
    const snapshot = await new Catalog(db.sql).fresh((next) =>
      next.routines.has('rest_count_probe'),
    );
    const routine = snapshot.routines.get('rest_count_probe')![0]!;
    // How many times the plan evaluates the function.
    const calls = async (count: boolean) => {
      const statement = callStatement(
        routine,
        routine.params,
        '{"p_n": 1}',
        { singular: false, stripNulls: false },
        { count },
      );
      const plan = await db.sql.unsafe(`explain (verbose, costs off) ${statement.text}`, [
        ...statement.params,
      ]);
      const text = plan.map((row) => row['QUERY PLAN'] as string).join('\n');
      return text.split('rest_count_probe(').length - 1;
    };
    expect(await calls(false)).toBe(2);
    expect(await calls(true)).toBe(1);

    const response = await capped.request('/rpc/rest_count_probe', {
      method: 'POST',
      headers: {
        apikey: jwt.anonKey,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        prefer: 'count=exact',
      },
      body: JSON.stringify({ p_n: 2 }),
    });
    expect(await response.json()).toEqual({ n: 2 });
    expect(response.headers.get('content-range')).toBe('0-0/1');
  });
});
