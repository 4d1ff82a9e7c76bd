import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { connectDatabase } from '../connect.ts';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';
import { freePort } from '../free-port.ts';
import { migrateDatabase } from '../migrate.ts';
import { TEMPLATE_DATABASE } from './constants.ts';

/**
 * Starts one real Postgres for the whole test run (embedded, or the server
 * in OMNIHUB_TEST_DATABASE_URL) and builds a migrated template database that
 * every test file clones into a database of its own.
 */
export default async function setup(project: TestProject) {
  let serverUrl = process.env.OMNIHUB_TEST_DATABASE_URL;
  let stop = async () => {};
  if (!serverUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-test-'));
    const pg = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      // Test data is thrown away: skip the durability work.
      settings: {
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        max_connections: '400',
      },
    });
    serverUrl = pg.url;
    stop = async () => {
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }

  const admin = connectDatabase(serverUrl, { max: 1 });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  const templateUrl = new URL(serverUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  const template = connectDatabase(templateUrl.toString(), { max: 1 });
  await migrateDatabase(template);
  await template.end();
  await admin.end();

  project.provide('omnihubServerUrl', serverUrl);
  return stop;
}
