import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoUrl, uniquePrefix } from '@stackyard/testing';
import { connectMongo } from './client';
import type { CommandCountsFile } from './command-counts';

// Runs against the real MongoDB-wire server of the test run (FerretDB, or MONGO_URL).
describe('command counts (STACKYARD_MONGO_COMMAND_COUNTS, benchmarks only)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-counts-'));
  afterEach(() => {
    delete process.env['STACKYARD_MONGO_COMMAND_COUNTS'];
  });

  it('Given the variable, then every command is counted by collection and kind, with the documents returned, on close', async () => {
    process.env['STACKYARD_MONGO_COMMAND_COUNTS'] = dir;
    const conn = await connectMongo(mongoUrl(), { appName: 'counted' });
    const col = conn.db(uniquePrefix('counts')).collection<{ _id: string }>('things');
    await col.insertOne({ _id: 'a' });
    await col.insertOne({ _id: 'b' });
    await col.find({}).toArray();
    await col.findOne({ _id: 'missing' });
    await conn.close();

    const file = readdirSync(dir).find((f) => f.startsWith('counted-'));
    const body = JSON.parse(readFileSync(join(dir, file!), 'utf8')) as CommandCountsFile;
    expect(body.counts['things insert']).toEqual({ commands: 2, docs: 2, failed: 0 });
    expect(body.counts['things find']).toEqual({ commands: 2, docs: 2, failed: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given no variable, then the client does not monitor commands', async () => {
    const conn = await connectMongo(mongoUrl());
    expect(conn.client.options.monitorCommands).toBe(false);
    expect(conn.client.listenerCount('commandStarted')).toBe(0);
    await conn.close();
  });
});
