import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConcurrencyError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from './fakes';

interface Thing {
  name: string;
  tags: string[];
}

function ready(id = 'h1'): Envelope {
  const host = { hostId: id, siteId: 'dc1', name: id, groups: ['compute'] };
  return newEvent({ type: Events.NodeReady, site: 'dc1', entityId: id, service: 'monitoring', data: { host, durationMs: 5 } });
}

/** The fake must keep the AggregateStore contract (libs/mongo/src/store.ts) that services rely on. */
describe('InMemoryAggregateStore', () => {
  it('creates at version 1 and bumps the version on each update', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    expect(await s.create('a', { name: 'a', tags: [] })).toEqual({ outcome: 'written', version: 1 });
    expect(await s.update('a', 1, { name: 'b', tags: [] })).toEqual({ outcome: 'written', version: 2 });
    expect(await s.get('a')).toEqual({ id: 'a', version: 2, data: { name: 'b', tags: [] } });
    expect(await s.get('zz')).toBeNull();
    expect(s.writes).toBe(2);
  });

  it('refuses a second create of the same id: AlreadyExists for an API write, a version conflict for another event, duplicate for the same event', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    await s.create('a', { name: 'a', tags: [] }, { appliedKey: 'c~1' });
    await expect(s.create('a', { name: 'x', tags: [] })).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(s.create('a', { name: 'x', tags: [] }, { appliedKey: 'c~2' })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await s.create('a', { name: 'x', tags: [] }, { appliedKey: 'c~1' })).toEqual({ outcome: 'duplicate' });
    expect((await s.get('a'))?.data.name).toBe('a');
  });

  it('checks the expected version: a stale or missing aggregate is a ConcurrencyError', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    await s.create('a', { name: 'a', tags: [] });
    await s.update('a', 1, { name: 'b', tags: [] });
    await expect(s.update('a', 1, { name: 'c', tags: [] })).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(s.update('missing', 1, { name: 'c', tags: [] })).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await s.get('a'))?.data.name).toBe('b');
  });

  it('reports an update for an already applied event as duplicate, whatever the version, and writes nothing', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    await s.create('a', { name: 'a', tags: [] });
    await s.update('a', 1, { name: 'b', tags: [] }, { appliedKey: 'c~1', events: [ready()] });
    expect(await s.update('a', 2, { name: 'c', tags: [] }, { appliedKey: 'c~1', events: [ready()] })).toEqual({ outcome: 'duplicate' });
    expect(await s.update('a', 1, { name: 'c', tags: [] }, { appliedKey: 'c~1' })).toEqual({ outcome: 'duplicate' });
    expect(s.outbox).toHaveLength(1);
    expect(await s.get('a')).toMatchObject({ version: 2, data: { name: 'b' } });
    expect(s.wasApplied('a', 'c~1')).toBe(true);
    expect(s.wasApplied('a', 'c~2')).toBe(false);
  });

  it('records events in write order only for writes that happened', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    const e1 = ready('h1');
    const e2 = ready('h2');
    await s.create('a', { name: 'a', tags: [] }, { events: [e1] });
    await expect(s.update('a', 7, { name: 'b', tags: [] }, { events: [ready('h3')] })).rejects.toBeInstanceOf(ConcurrencyError);
    await s.update('a', 1, { name: 'b', tags: [] }, { events: [e2] });
    expect(s.outbox).toEqual([e1, e2]);
    expect(s.eventsOfType(Events.NodeReady.type)).toEqual([e1, e2]);
    expect(s.eventsOfType(Events.HostRegistered.type)).toEqual([]);
  });

  it('fails the whole write when an event cannot be encoded for the wire', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    const bogus = { ...ready(), type: 'stackyard.nope.v1.Nothing' };
    await expect(s.create('a', { name: 'a', tags: [] }, { events: [bogus] })).rejects.toBeInstanceOf(ValidationError);
    expect(await s.get('a')).toBeNull();
    expect(s.outbox).toEqual([]);
  });

  it('copies data in and out, so callers cannot change stored state by aliasing', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    const t = { name: 'a', tags: ['x'] };
    await s.create('a', t);
    t.tags.push('mutated');
    const read = await s.get('a');
    read!.data.tags.push('mutated too');
    expect((await s.get('a'))?.data.tags).toEqual(['x']);
  });

  it('finds by predicate, sorted by id', async () => {
    const s = new InMemoryAggregateStore<Thing>('thing');
    for (const id of ['c', 'a', 'b']) await s.create(id, { name: id, tags: id === 'b' ? [] : ['t'] });
    expect((await s.find()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect((await s.find((d) => d.tags.includes('t'))).map((r) => r.id)).toEqual(['a', 'c']);
  });
});
