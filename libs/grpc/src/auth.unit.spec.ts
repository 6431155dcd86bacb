import { describe, expect, it } from 'vitest';
import { PermissionDeniedError, UnauthenticatedError, ValidationError } from '@stackyard/errors';
import { authenticate, authorize, hasRole, inScope, requireRole, requireSite, requiredRole, sha256Hex, TokenStore } from './auth';

const store = new TokenStore([
  { name: 'v', role: 'viewer', sites: ['*'], tokenSha256: sha256Hex('tv') },
  { name: 'o', role: 'operator', sites: ['dc1'], tokenSha256: sha256Hex('to') },
  { name: 'a', role: 'admin', sites: ['*'], tokenSha256: sha256Hex('ta') },
]);

describe('API tokens', () => {
  it('derives the role a method needs from its name', () => {
    expect(requiredRole('/stackyard.inventory.v1.InventoryService/GetHost')).toBe('viewer');
    expect(requiredRole('/stackyard.monitoring.v1.MonitoringService/WatchSite')).toBe('viewer');
    expect(requiredRole('/stackyard.inventory.v1.InventoryService/RegisterHost')).toBe('operator');
    expect(requiredRole('/stackyard.monitoring.v1.MonitoringService/RetryNode')).toBe('operator');
    expect(requiredRole('/stackyard.deployment.v1.DeploymentService/Destroy')).toBe('admin');
  });
  it('authenticates by token hash and checks role and site scope', () => {
    expect(() => authorize(store, undefined, '/x/GetHost', {})).toThrow(UnauthenticatedError);
    expect(() => authorize(store, 'Bearer nope', '/x/GetHost', {})).toThrow(UnauthenticatedError);
    expect(() => authorize(store, 'Basic tv', '/x/GetHost', {})).toThrow(UnauthenticatedError);
    expect(authorize(store, 'Bearer tv', '/x/GetHost', { id: 'dc2-h' }).name).toBe('v');
    expect(() => authorize(store, 'Bearer tv', '/x/RegisterHost', { siteId: 'dc1' })).toThrow(PermissionDeniedError);
    expect(authorize(store, 'Bearer to', '/x/RegisterHost', { siteId: 'dc1' }).name).toBe('o');
    expect(() => authorize(store, 'Bearer to', '/x/RegisterHost', { siteId: 'dc2' })).toThrow(/site "dc2"/);
    expect(() => authorize(store, 'Bearer to', '/x/DefineNetwork', { network: { siteId: 'dc2' } })).toThrow(/site "dc2"/);
    expect(() => authorize(store, 'Bearer to', '/x/RetryNode', { hostId: 'dc10-h' })).toThrow(/host "dc10-h"/);
    expect(authorize(store, 'Bearer to', '/x/CreateSite', { id: 'dc1' }).name).toBe('o');
    expect(() => authorize(store, 'Bearer to', '/x/Destroy', { siteId: 'dc1' })).toThrow(/needs the admin role/);
    expect(() => authorize(store, 'Bearer to', '/x/ImportSomething', {})).toThrow(/names no site/);
    expect(authorize(store, 'Bearer ta', '/x/Destroy', { siteId: 'dc9' }).name).toBe('a');
  });
  it('rejects a malformed token file entry, naming the field', () => {
    expect(() => new TokenStore([{ name: 'x', role: 'viewer', sites: ['*'], tokenSha256: 'abc' }])).toThrow(/^tokens\[0\]\.token_sha256: /);
    expect(() => new TokenStore([{ name: 'x', role: 'root' as never, sites: ['*'], tokenSha256: sha256Hex('x') }])).toThrow(ValidationError);
    expect(() => new TokenStore([{ name: 'x', role: 'viewer', sites: [], tokenSha256: sha256Hex('x') }])).toThrow(/tokens\[0\]\.sites/);
  });
  it('exposes the transport-neutral pieces HTTP shares: authenticate, roles, site scope', () => {
    expect(() => authenticate(store, 'Bearer nope')).toThrow('invalid API token');
    const o = authenticate(store, 'Bearer to');
    expect([hasRole(o, 'viewer'), hasRole(o, 'operator'), hasRole(o, 'admin')]).toEqual([true, true, false]);
    expect(() => requireRole(o, 'admin', 'POST /x')).toThrow('o (operator) may not call POST /x: it needs the admin role');
    expect([inScope(o, 'dc1'), inScope(o, 'dc2'), inScope(authenticate(store, 'Bearer tv'), 'dc2')]).toEqual([true, false, true]);
    expect(() => requireSite(o, 'dc2')).toThrow(PermissionDeniedError);
  });
});
