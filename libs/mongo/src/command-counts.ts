import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, Document, MongoClient } from 'mongodb';

/**
 * Bench instrumentation, off unless `STACKYARD_MONGO_COMMAND_COUNTS=<directory>` is set (then the
 * client is created with `monitorCommands: true`; without it no listener exists and nothing is
 * counted). Counts every command the process sends by collection and command name, with the
 * documents the server returned (cursor batches, `n` of writes) and the failures, and writes them
 * to `<directory>/<appName>-<pid>.json` every second and on close. `bench/saga.ts --count-commands`
 * reads the files.
 */
export function commandCountsDir(): string | undefined {
  // eslint-disable-next-line n/no-process-env -- a switch for benchmarks, like STACKYARD_FERRETDB_GIN
  const dir = process.env['STACKYARD_MONGO_COMMAND_COUNTS'];
  return dir ? dir : undefined;
}

export interface CommandCount {
  commands: number;
  /** Documents in the replies: cursor batches for find/aggregate/getMore, `n` for writes and count. */
  docs: number;
  failed: number;
}

/** The file's shape: `counts["<collection> <command>"]`. */
export interface CommandCountsFile {
  readonly app: string;
  readonly pid: number;
  readonly counts: Record<string, CommandCount>;
}

function collectionOf(e: CommandStartedEvent): string {
  const c: Document = e.command;
  const v: unknown = e.commandName === 'getMore' ? c['collection'] : c[e.commandName];
  return typeof v === 'string' ? v : '-';
}

function docsOf(reply: Document | undefined): number {
  if (!reply) return 0;
  const cursor = reply['cursor'] as { firstBatch?: unknown[]; nextBatch?: unknown[] } | undefined;
  if (cursor) return (cursor.firstBatch ?? cursor.nextBatch ?? []).length;
  return typeof reply['n'] === 'number' ? reply['n'] : 0;
}

/** Attaches the counting listeners; returns a function that writes the file a last time and stops. */
export function countCommands(client: MongoClient, dir: string, app: string): () => void {
  const counts: Record<string, CommandCount> = {};
  const inFlight = new Map<number, string>();
  const file = join(dir, `${app}-${process.pid}.json`);
  const entry = (key: string) => (counts[key] ??= { commands: 0, docs: 0, failed: 0 });
  client.on('commandStarted', (e: CommandStartedEvent) => {
    const key = `${collectionOf(e)} ${e.commandName}`;
    entry(key).commands++;
    inFlight.set(e.requestId, key);
  });
  client.on('commandSucceeded', (e: CommandSucceededEvent) => {
    const key = inFlight.get(e.requestId);
    inFlight.delete(e.requestId);
    if (key) entry(key).docs += docsOf(e.reply as Document | undefined);
  });
  client.on('commandFailed', (e: CommandFailedEvent) => {
    const key = inFlight.get(e.requestId);
    inFlight.delete(e.requestId);
    if (key) entry(key).failed++;
  });
  const write = () => {
    const body: CommandCountsFile = { app, pid: process.pid, counts };
    writeFileSync(`${file}.tmp`, JSON.stringify(body));
    renameSync(`${file}.tmp`, file);
  };
  const timer = setInterval(write, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    write();
  };
}
