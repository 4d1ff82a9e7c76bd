import { inject } from 'vitest';
import { connectDatabase, type Sql } from '../connect.ts';
import { TEMPLATE_DATABASE } from './constants.ts';

export interface TestDatabase {
  url: string;
  /** A superuser client (bypasses RLS), for arranging and inspecting rows. */
  sql: Sql;
  drop(): Promise<void>;
}

/** A fresh, fully migrated database of its own for one test file (a copy of the template: fast). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('omnihubServerUrl');
  const name = `omnihub_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = connectDatabase(serverUrl, { max: 1 });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DATABASE}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = connectDatabase(url.toString(), { max: 10, applicationName: 'omnihub-test' });
  return {
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
