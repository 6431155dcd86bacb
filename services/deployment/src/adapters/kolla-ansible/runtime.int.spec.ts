import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRetryable, ValidationError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { OutputLine } from '../../application/ports';
import { plannedBySite, siteInputs, type SiteHost } from '../../application/site-inputs';
import { KollaHostError } from '../../domain/kolla/outcome';
import { LocalExecutor, shellQuote, SshExecutor } from './executor';
import { KollaAnsibleRuntime } from './runtime';
import { rsaKeyPair } from './secrets';

// The real kolla-ansible cannot be installed here (no PyPI). A bash script stands in for it: it records
// its argv and the config dir it was given, then prints a multi-play ansible-playbook output ending in a
// PLAY RECAP with one ok host, one failed on a fatal task (whose message leaks a password) and one
// unreachable. The adapter runs it for real: files on disk, a spawned process, streamed output.
const root = mkdtempSync(join(tmpdir(), 'stackyard-kolla-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FAKE = join(root, 'kolla-ansible');
const RECORD = join(root, 'record');
writeFileSync(
  FAKE,
  `#!/usr/bin/env bash
set -u
rec=${shellQuote(RECORD)}
action="$1"
mkdir -p "$rec"
n=$(( $(ls "$rec" | wc -l) + 1 ))
out="$rec/$n"
mkdir -p "$out"
printf '%s\\n' "$@" > "$out/argv"
pwd > "$out/cwd"
confdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --configdir) confdir="$2"; shift 2 ;;
    *) shift ;;
  esac
done
cp -r "$confdir" "$out/config"
stat -c '%a' "$confdir/passwords.yml" > "$out/passwords-mode"
# A task that fails and leaks a password into its message (as a bad template might).
dbpw=$(sed -n 's/^database_password: "\\(.*\\)"$/\\1/p' "$confdir/passwords.yml")
cat <<OUT
[WARNING]: Invalid characters were found in group names but not replaced

PLAY [Gather facts for all hosts] **********************************************

TASK [Gather facts] ************************************************************
ok: [cmp-01]
ok: [cmp-02]
fatal: [cmp-03]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.1.0.13 port 22: No route to host", "unreachable": true}

PLAY [Apply role common] *******************************************************

TASK [common : Ensuring config directories exist] ******************************
changed: [cmp-01] => (item=cron)
changed: [cmp-02] => (item=cron)

TASK [nova-cell : Waiting for nova-compute services to register themselves] ****
FAILED - RETRYING: [cmp-02]: Waiting for nova-compute services to register themselves (20 retries left).
fatal: [cmp-02]: FAILED! => {"attempts": 20, "changed": false, "msg": "nova-compute did not register; connection string mysql+pymysql://nova:$dbpw@10.1.0.5/nova"}
ok: [cmp-01]

PLAY RECAP *********************************************************************
cmp-01                     : ok=57   changed=12   unreachable=0    failed=0    skipped=31   rescued=0    ignored=0
cmp-02                     : ok=41   changed=8    unreachable=0    failed=1    skipped=20   rescued=0    ignored=0
cmp-03                     : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0

OUT
echo "kolla-ansible: $action finished with errors (password $dbpw)" >&2
exit 2
`,
);
chmodSync(FAKE, 0o755);

const host = (name: string, groups: string[]): HostRef => ({ hostId: `lab-${name}`, siteId: 'lab', name, groups });
const HOSTS: SiteHost[] = ['cmp-01', 'cmp-02', 'cmp-03'].map((n, i) => ({
  host: host(n, ['compute']),
  addresses: [{ network: 'internal', address: `10.1.0.${11 + i}` }],
}));
const SETTINGS = { openstackRelease: '2025.1', baseDistro: 'rocky', baseDistroVersion: '9', internalVipAddress: '10.1.0.5' };
const INPUTS = siteInputs('lab', HOSTS, SETTINGS);
const CONTAINERS = plannedBySite(HOSTS);

let runs = 0;
function recorded(n: number) {
  const dir = join(RECORD, String(n));
  return {
    argv: readFileSync(join(dir, 'argv'), 'utf8').trimEnd().split('\n'),
    cwd: readFileSync(join(dir, 'cwd'), 'utf8').trim(),
    file: (p: string) => readFileSync(join(dir, 'config', p), 'utf8'),
    has: (p: string) => existsSync(join(dir, 'config', p)),
    passwordsMode: readFileSync(join(dir, 'passwords-mode'), 'utf8').trim(),
  };
}

function runtime(workDir: string, lines: OutputLine[] = [], executor = new LocalExecutor()) {
  return new KollaAnsibleRuntime({
    bin: FAKE,
    workDir,
    executor,
    // 1024-bit keys keep the test fast; production uses kolla-genpwd's 4096.
    sshKeyPair: () => ({ private_key: '-----BEGIN RSA PRIVATE KEY-----\nMIICXAIBAAKBgQDfakekeymaterialfortests0123456789\n-----END RSA PRIVATE KEY-----\n', public_key: 'ssh-rsa AAAAB3fake' }),
    onLine: (_ctx, l) => lines.push(l),
  });
}

describe('kolla-ansible runtime against an executable standing in for kolla-ansible', () => {
  const work = join(root, 'work');
  const logged: OutputLine[] = [];
  const rt = runtime(work, logged);

  it('Given a site deploy, then it writes the inputs, runs kolla-ansible deploy -i <inventory> --configdir <dir>, and reports ok / failed / unreachable per host', async () => {
    const streamed: OutputLine[] = [];
    const r = await rt.run({ action: 'deploy', inputs: INPUTS, containers: CONTAINERS, onLine: (l) => streamed.push(l) });
    runs++;
    const rec = recorded(runs);
    const dir = join(work, 'lab');
    expect(rec.argv).toEqual(['deploy', '-i', join(dir, 'inventory/overcloud/hosts'), '--configdir', dir]);
    expect(rec.cwd).toBe(dir);
    // The files the binary was given are the generated inputs, byte for byte.
    for (const f of INPUTS.files) expect(rec.file(f.path), f.path).toBe(f.content);
    expect(rec.file('inventory/overcloud/host_vars/cmp-02')).toBe('---\nansible_host: "10.1.0.12"\n');
    expect(rec.file('globals.yml')).toContain('kolla_internal_vip_address: "10.1.0.5"');
    expect(rec.passwordsMode).toBe('600');
    expect(statSync(join(dir, 'passwords.yml')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    expect(r.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['cmp-01', 'ok'],
      ['cmp-02', 'failed'],
      ['cmp-03', 'unreachable'],
    ]);
    const [ok, failed, unreachable] = r.hosts;
    expect(ok!.containers.map((c) => c.name)).toEqual(CONTAINERS['cmp-01']!.map((c) => c.name));
    expect(ok!.containers.every((c) => c.healthy)).toBe(true);
    expect(failed!.error).toBeInstanceOf(KollaHostError);
    expect(failed!.error).toMatchObject({ reason: 'KollaTaskFailed', retryable: false, task: 'nova-cell : Waiting for nova-compute services to register themselves' });
    expect(isRetryable(failed!.error)).toBe(false);
    expect(unreachable!.error).toMatchObject({ reason: 'HostUnreachable', retryable: true, task: 'Gather facts' });
    expect(unreachable!.error!.message).toContain('No route to host');

    // Every line was streamed, stdout and stderr, with the password masked everywhere.
    const dbpw = /^database_password: "(.*)"$/m.exec(readFileSync(join(dir, 'passwords.yml'), 'utf8'))![1]!;
    expect(dbpw).toHaveLength(40);
    expect(streamed.some((l) => l.stream === 'stdout' && l.line.startsWith('PLAY RECAP'))).toBe(true);
    expect(streamed.some((l) => l.stream === 'stderr' && l.line === 'kolla-ansible: deploy finished with errors (password ********)')).toBe(true);
    expect(streamed).toEqual(logged);
    expect(JSON.stringify(streamed)).not.toContain(dbpw);
    expect(failed!.error!.message).toContain('nova:********@10.1.0.5');
    expect(failed!.error!.message).not.toContain(dbpw);
    expect(JSON.stringify(r)).not.toContain(dbpw);
  });

  it('Given a second run, then passwords.yml keeps its values and stale host_vars are removed', async () => {
    const before = readFileSync(join(work, 'lab', 'passwords.yml'), 'utf8');
    const two = siteInputs('lab', HOSTS.slice(0, 2), SETTINGS);
    await rt.run({ action: 'reconfigure', inputs: two, containers: CONTAINERS });
    runs++;
    const rec = recorded(runs);
    expect(rec.argv[0]).toBe('reconfigure');
    expect(rec.has('inventory/overcloud/host_vars/cmp-03')).toBe(false);
    expect(rec.file('passwords.yml')).toBe(before);
  });

  it('Given deploy of one node, then --limit <host>; ok gives healthy containers, failed and unreachable throw typed StepFailedErrors', async () => {
    const cmp01 = await rt.deploy(HOSTS[0]!.host, CONTAINERS['cmp-01']!, ['10.1.0.11'], INPUTS);
    runs++;
    expect(recorded(runs).argv.slice(-2)).toEqual(['--limit', 'cmp-01']);
    expect(cmp01.map((c) => c.name)).toContain('nova_compute');
    const e2 = await rt.deploy(HOSTS[1]!.host, CONTAINERS['cmp-02']!, ['10.1.0.12'], INPUTS).catch((e: unknown) => e);
    runs++;
    expect(e2).toMatchObject({ name: 'KollaHostError', reason: 'KollaTaskFailed', retryable: false, host: 'cmp-02' });
    const e3 = await rt.deploy(HOSTS[2]!.host, CONTAINERS['cmp-03']!, ['10.1.0.13'], INPUTS).catch((e: unknown) => e);
    runs++;
    expect(e3).toMatchObject({ reason: 'HostUnreachable', retryable: true });
  });

  it('Given destroy without explicit confirmation, then a ValidationError naming confirm, before anything is written or run', async () => {
    const fresh = join(root, 'fresh');
    const calls = () => (existsSync(RECORD) ? readFileSync(join(RECORD, String(runs), 'argv'), 'utf8') : '');
    const lastCall = calls();
    const e = await runtime(fresh).run({ action: 'destroy', inputs: INPUTS, containers: CONTAINERS }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('confirm');
    expect(existsSync(fresh)).toBe(false);
    expect(existsSync(join(RECORD, String(runs + 1)))).toBe(false);
    expect(calls()).toBe(lastCall);
    // With it, the flag kolla-ansible itself demands is passed; ok hosts report no containers.
    const r = await runtime(fresh).run({ action: 'destroy', inputs: INPUTS, containers: CONTAINERS, confirm: true });
    runs++;
    expect(recorded(runs).argv).toEqual(['destroy', '-i', join(fresh, 'lab', 'inventory/overcloud/hosts'), '--configdir', join(fresh, 'lab'), '--yes-i-really-really-mean-it']);
    expect(r.hosts[0]).toMatchObject({ host: 'cmp-01', outcome: 'ok', containers: [] });
  });

  it('Given destroy of one node (abort compensation), then destroy --limit <host> --yes-i-really-really-mean-it, and a host that fails is reported with its error, not swallowed', async () => {
    const ok = await rt.run({ action: 'destroy', inputs: INPUTS, limit: ['cmp-01'], containers: { 'cmp-01': [] }, confirm: true });
    runs++;
    const dir = join(work, 'lab');
    expect(recorded(runs).argv).toEqual(['destroy', '-i', join(dir, 'inventory/overcloud/hosts'), '--configdir', dir, '--limit', 'cmp-01', '--yes-i-really-really-mean-it']);
    expect(ok.hosts).toEqual([{ host: 'cmp-01', outcome: 'ok', containers: [] }]);

    const bad = await rt.run({ action: 'destroy', inputs: INPUTS, limit: ['cmp-02'], containers: { 'cmp-02': [] }, confirm: true });
    runs++;
    expect(recorded(runs).argv.slice(-3)).toEqual(['--limit', 'cmp-02', '--yes-i-really-really-mean-it']);
    expect(bad.hosts).toHaveLength(1);
    expect(bad.hosts[0]).toMatchObject({ host: 'cmp-02', outcome: 'failed', containers: [] });
    expect(bad.hosts[0]!.error).toMatchObject({ name: 'KollaHostError', reason: 'KollaTaskFailed', retryable: false, host: 'cmp-02' });
  });

  it('Given the ssh executor, then the same command line runs through `ssh -o BatchMode=yes <host> -- <quoted command>`', async () => {
    const sshLog = join(root, 'ssh-argv');
    const fakeSsh = join(root, 'ssh');
    // Stands in for the system ssh: records its argv and runs the remote command with a local shell.
    writeFileSync(fakeSsh, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > ${shellQuote(sshLog)}\nexec bash -c "\${@: -1}"\n`);
    chmodSync(fakeSsh, 0o755);
    const spaced = join(root, "work dir's");
    const r = await runtime(spaced, [], new SshExecutor({ host: 'kolla@deploy-01', ssh: fakeSsh })).run({ action: 'upgrade', inputs: INPUTS, containers: CONTAINERS });
    runs++;
    const args = readFileSync(sshLog, 'utf8').trimEnd().split('\n');
    expect(args.slice(0, 6)).toEqual(['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', 'kolla@deploy-01', '--']);
    expect(args[6]).toBe(`cd ${shellQuote(join(spaced, 'lab'))} && ${FAKE} upgrade -i ${shellQuote(join(spaced, 'lab', 'inventory/overcloud/hosts'))} --configdir ${shellQuote(join(spaced, 'lab'))}`);
    // The quoting survived the remote shell: the binary got the paths with the space and quote intact.
    expect(recorded(runs).argv).toEqual(['upgrade', '-i', join(spaced, 'lab', 'inventory/overcloud/hosts'), '--configdir', join(spaced, 'lab')]);
    expect(r.hosts.map((h) => h.outcome)).toEqual(['ok', 'failed', 'unreachable']);
  });

  it('Given a binary that does not exist, then a non-retryable KollaAnsibleNotFound', async () => {
    const rt2 = new KollaAnsibleRuntime({ bin: join(root, 'nope'), workDir: join(root, 'w2'), executor: new LocalExecutor(), sshKeyPair: () => ({ private_key: 'k', public_key: 'p' }) });
    const e = await rt2.run({ action: 'deploy', inputs: INPUTS, containers: CONTAINERS }).catch((x: unknown) => x);
    expect(e).toMatchObject({ reason: 'KollaAnsibleNotFound', retryable: false });
  });
});

describe('SSH key pairs for passwords.yml', () => {
  it('Given a generated RSA pair, then ssh-keygen derives the same OpenSSH public key from the PEM private key', () => {
    const probe = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
    if (probe.error) return; // ssh-keygen not installed: nothing to compare with
    const pair = rsaKeyPair(1024);
    const key = join(root, 'id_rsa');
    writeFileSync(key, pair.private_key, { mode: 0o600 });
    const derived = spawnSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' });
    expect(derived.stdout.trim()).toBe(pair.public_key);
  });
});
