import { describe, expect, it } from 'vitest';
import { PlaybookOutput, parsePlaybookOutput, parseRecapLine } from './recap';

/** Shaped like `kolla-ansible deploy -i inventory/overcloud` output: one host fails, one is unreachable. */
const RUN = `Deploying Playbooks : ansible-playbook -i /etc/kolla/inventory/overcloud -e @/etc/kolla/globals.yml -e @/etc/kolla/passwords.yml -e CONFIG_DIR=/etc/kolla  -e kolla_action=deploy /opt/kayobe/venvs/kolla-ansible/share/kolla-ansible/ansible/site.yml

PLAY [Gather facts for all hosts] **********************************************

TASK [Gather facts] ************************************************************
ok: [ctl-01]
ok: [cmp-01]
fatal: [cmp-02]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.23 port 22: No route to host", "unreachable": true}

TASK [Group hosts based on configuration] **************************************
ok: [ctl-01]
ok: [cmp-01]

TASK [common : Ensuring config directories exist] ******************************
changed: [ctl-01] => (item={'key': 'cron', 'value': {...}})
changed: [cmp-01] => (item={'key': 'cron', 'value': {...}})

TASK [mariadb : Check MariaDB service port liveness] ***************************
fatal: [ctl-01]: FAILED! => {"changed": false, "elapsed": 10, "msg": "Timeout when waiting for search string MariaDB in 10.1.0.11:3306"}
...ignoring

RUNNING HANDLER [nova-cell : Restart nova-compute container] *******************
changed: [cmp-01]

TASK [nova-cell : Waiting for nova-compute services to register themselves] ****
FAILED - RETRYING: [cmp-01]: Waiting for nova-compute services to register themselves (20 retries left).
fatal: [cmp-01]: FAILED! => {"attempts": 20, "changed": false, "cmd": ["docker", "exec", "kolla_toolbox", "openstack", "compute", "service", "list"], "msg": "non-zero return code", "rc": 1, "stderr": "", "stdout": ""}

PLAY RECAP *********************************************************************
cmp-01                     : ok=112  changed=48   unreachable=0    failed=1    skipped=87   rescued=0    ignored=0   
cmp-02                     : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   
ctl-01                     : ok=391  changed=217  unreachable=0    failed=0    skipped=240  rescued=0    ignored=1   
localhost                  : ok=4    changed=0    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0   

Command failed ansible-playbook -i /etc/kolla/inventory/overcloud ... site.yml
`;

describe('parseRecapLine', () => {
  it('reads every counter', () => {
    expect(parseRecapLine('ctl-01                     : ok=391  changed=217  unreachable=0    failed=0    skipped=240  rescued=0    ignored=1   ')).toEqual({
      host: 'ctl-01',
      ok: 391,
      changed: 217,
      unreachable: 0,
      failed: 0,
      skipped: 240,
      rescued: 0,
      ignored: 1,
    });
  });

  it('reads coloured output and older recaps without rescued/ignored', () => {
    expect(parseRecapLine('\u001b[0;33mctl-01\u001b[0m : \u001b[0;32mok=3   \u001b[0m \u001b[0;33mchanged=1   \u001b[0m unreachable=0    failed=0   ')).toMatchObject({ host: 'ctl-01', ok: 3, changed: 1, rescued: 0, ignored: 0 });
  });

  it('ignores lines that are not recap lines', () => {
    expect(parseRecapLine('ok: [ctl-01]')).toBeUndefined();
    expect(parseRecapLine('PLAY RECAP ****')).toBeUndefined();
    expect(parseRecapLine('x : foo=1')).toBeUndefined();
  });
});

describe('parsePlaybookOutput', () => {
  it('Given a run with a failure, an unreachable host and an ignored error, then each host gets its outcome, task and message', () => {
    const r = parsePlaybookOutput(RUN);
    expect(r.complete).toBe(true);
    expect(r.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['cmp-01', 'failed'],
      ['cmp-02', 'unreachable'],
      ['ctl-01', 'ok'],
      ['localhost', 'ok'],
    ]);
    expect(r.hosts[0]).toEqual({
      host: 'cmp-01',
      ok: 112,
      changed: 48,
      unreachable: 0,
      failed: 1,
      skipped: 87,
      rescued: 0,
      ignored: 0,
      outcome: 'failed',
      failedTask: 'nova-cell : Waiting for nova-compute services to register themselves',
      message: 'non-zero return code',
    });
    expect(r.hosts[1]).toMatchObject({ failedTask: 'Gather facts', message: 'Failed to connect to the host via ssh: ssh: connect to host 10.0.0.23 port 22: No route to host' });
    // The ignored mariadb error is not ctl-01's failure.
    expect(r.hosts[2]).not.toHaveProperty('message');
    expect(r.hosts[2]?.ignored).toBe(1);
  });

  it('gives the same result however the output is chunked', () => {
    const whole = parsePlaybookOutput(RUN);
    for (const size of [1, 7, 64, 4096]) {
      const p = new PlaybookOutput();
      for (let i = 0; i < RUN.length; i += size) p.write(RUN.slice(i, i + size));
      expect(p.end()).toEqual(whole);
    }
  });

  it('Given output cut short before the recap, then no hosts and not complete', () => {
    expect(parsePlaybookOutput(RUN.slice(0, RUN.indexOf('PLAY RECAP')))).toEqual({ hosts: [], complete: false });
  });

  it('Given several playbooks (e.g. deploy then post-deploy), then the last recap of each host wins', () => {
    const two = `PLAY RECAP ***\nctl-01 : ok=5 changed=1 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n\nPLAY [again] ***\n\nPLAY RECAP ***\nctl-01 : ok=9 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n`;
    expect(parsePlaybookOutput(two).hosts).toEqual([{ host: 'ctl-01', ok: 9, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, outcome: 'ok' }]);
  });

  it('Given a non-JSON fatal message, then the raw text is the message', () => {
    const out = 'TASK [x : y] ***\nfatal: [h1]: FAILED! => not json\n\nPLAY RECAP ***\nh1 : ok=0 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n';
    expect(parsePlaybookOutput(out).hosts[0]).toMatchObject({ outcome: 'failed', failedTask: 'x : y', message: 'not json' });
  });
});
