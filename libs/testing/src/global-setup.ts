import type { TestProject } from 'vitest/node';
import { startFerretDb, type LocalServer } from '@stackyard/devinfra';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
  }
}

let ferret: LocalServer | undefined;

/**
 * Starts one real MongoDB-wire server (FerretDB on SQLite) for the whole run, unless MONGO_URL
 * points at one already. Each test file uses its own database names and its own nats-server.
 */
export async function setup(project: TestProject): Promise<void> {
  // eslint-disable-next-line n/no-process-env
  let url = process.env['MONGO_URL'];
  if (!url) {
    ferret = await startFerretDb();
    url = ferret.url;
  }
  project.provide('mongoUrl', url);
}

export async function teardown(): Promise<void> {
  await ferret?.stop();
}
