import { describe, expect, it } from 'vitest';
import { isRetryable } from '@stackyard/errors';
import { parsePlaybookOutput } from './recap';
import { hostRuns, kollaArgv, KollaHostError, redactor } from './outcome';

const OUTPUT = `
TASK [nova-cell : Waiting for nova-compute services to register themselves] ***
fatal: [cmp-02]: FAILED! => {"changed": false, "msg": "nova-compute did not register"}
fatal: [cmp-03]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: timed out", "unreachable": true}

PLAY RECAP *********************************************************************
cmp-01 : ok=40 changed=3 unreachable=0 failed=0 skipped=10 rescued=0 ignored=0
cmp-02 : ok=20 changed=1 unreachable=0 failed=1 skipped=5 rescued=0 ignored=0
cmp-03 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0
`;

describe('hostRuns', () => {
  it('Given a recap with an ok, a failed and an unreachable host, then ok, KollaTaskFailed (not retryable) and HostUnreachable (retryable)', () => {
    const runs = hostRuns(parsePlaybookOutput(OUTPUT), ['cmp-01', 'cmp-02', 'cmp-03'], { code: 2, signal: null });
    expect(runs.map((r) => [r.host, r.outcome])).toEqual([
      ['cmp-01', 'ok'],
      ['cmp-02', 'failed'],
      ['cmp-03', 'unreachable'],
    ]);
    const failed = runs[1]!;
    const unreachable = runs[2]!;
    if (failed.outcome === 'ok' || unreachable.outcome === 'ok') throw new Error('unexpected');
    expect(failed.error).toBeInstanceOf(KollaHostError);
    expect(failed.error).toMatchObject({ reason: 'KollaTaskFailed', retryable: false, host: 'cmp-02', task: 'nova-cell : Waiting for nova-compute services to register themselves', detail: 'nova-compute did not register' });
    expect(isRetryable(failed.error)).toBe(false);
    expect(unreachable.error).toMatchObject({ reason: 'HostUnreachable', retryable: true, detail: 'Failed to connect to the host via ssh: timed out' });
    expect(isRetryable(unreachable.error)).toBe(true);
  });

  it('Given a host the recap does not mention, or no recap at all, then KollaRunIncomplete (retryable) with the exit', () => {
    const [missing] = hostRuns(parsePlaybookOutput(OUTPUT), ['ctl-01'], { code: 2, signal: null });
    expect(missing).toMatchObject({ outcome: 'incomplete', error: { reason: 'KollaRunIncomplete', retryable: true } });
    const [killed] = hostRuns(parsePlaybookOutput('TASK [common : x] ***\n'), ['cmp-01'], { code: null, signal: 'SIGKILL' });
    expect(killed).toMatchObject({ outcome: 'incomplete' });
    if (killed?.outcome !== 'incomplete') throw new Error('unexpected');
    expect(killed.error.message).toBe('cmp-01: incomplete: kolla-ansible ended without a PLAY RECAP (killed by SIGKILL)');
  });
});

describe('kollaArgv', () => {
  it('Given an action, then kolla-ansible <action> -i <inventory> --configdir <dir> [--limit a,b]', () => {
    expect(kollaArgv('kolla-ansible', 'deploy', { inventory: '/w/inventory/overcloud/hosts', configDir: '/w', limit: ['cmp-01', 'cmp-02'] })).toEqual([
      'kolla-ansible', 'deploy', '-i', '/w/inventory/overcloud/hosts', '--configdir', '/w', '--limit', 'cmp-01,cmp-02',
    ]);
    expect(kollaArgv('ka', 'reconfigure', { inventory: 'i', configDir: 'd' })).toEqual(['ka', 'reconfigure', '-i', 'i', '--configdir', 'd']);
  });

  it('Given destroy, then the confirmation flag is added only when confirmed', () => {
    expect(kollaArgv('ka', 'destroy', { inventory: 'i', configDir: 'd' })).not.toContain('--yes-i-really-really-mean-it');
    expect(kollaArgv('ka', 'destroy', { inventory: 'i', configDir: 'd', confirmed: true })).toContain('--yes-i-really-really-mean-it');
    expect(kollaArgv('ka', 'deploy', { inventory: 'i', configDir: 'd', confirmed: true })).not.toContain('--yes-i-really-really-mean-it');
  });
});

describe('redactor', () => {
  it('Given secrets, then every occurrence is masked, the longest first; short values are ignored', () => {
    const r = redactor(['s3cretPassw0rd', 's3cret', 'ab']);
    expect(r('db password s3cretPassw0rd and s3cret, ab')).toBe('db password ******** and ********, ab');
    expect(redactor([])('unchanged')).toBe('unchanged');
  });
});
