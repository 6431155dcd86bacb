import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, labMac } from './lab-driver';
import { startLabRedfish, type LabRedfish } from './redfish-bmc';

/**
 * Python sushy (the Redfish library of Ironic's `redfish` hardware type) drives the lab Redfish
 * service: this is what lets an Ironic or Bifrost deployment run against the lab fleet. Needs a
 * Python with sushy (Debian: `apt-get install -y python3-sushy`); skipped otherwise.
 */
const PYTHON = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import sushy'], { stdio: 'ignore' }).status === 0);
const USER = 'ironic';
const PASS = 'sushy-lab-pw';
const IMAGE = 'http://images.lab/ipa-deploy.iso';

/** Runs with the event loop free (the emulator answers from this process), so never execFileSync. */
const SCRIPT = String.raw`
import json, sys, time, sushy
url, user, password, system_id = sys.argv[1:5]
out = {}
root = sushy.Sushy(url, username=user, password=password)
out['redfish_version'] = root.redfish_version
out['members'] = len(root.get_system_collection().get_members())
system = root.get_system('/redfish/v1/Systems/' + system_id)
out['identity'] = system.identity
out['hostname'] = system.hostname
out['uuid'] = system.uuid
out['power_before'] = system.power_state.value
out['cpus'] = system.processors.summary.count
out['memory_gib'] = system.memory_summary.size_gib
out['macs'] = sorted(system.ethernet_interfaces.summary.keys())
out['disk_bytes'] = sorted(system.simple_storage.disks_sizes_bytes)
out['drive_bytes'] = sorted(system.storage.drives_sizes_bytes)
out['boot_targets'] = sorted(v.value if hasattr(v, 'value') else v for v in system.boot.allowed_values)
out['reset_types'] = sorted(v.value for v in system.get_allowed_reset_system_values())
system.set_system_boot_options(sushy.BootSource.CD, enabled=sushy.BootSourceOverrideEnabled.ONCE, mode=sushy.BootSourceOverrideMode.UEFI)
system.refresh()
out['boot_after_patch'] = [system.boot.target.value, system.boot.enabled.value, system.boot.mode.value]
manager = root.get_manager('/redfish/v1/Managers/' + system_id)
cd = [m for m in manager.virtual_media.get_members() if sushy.VirtualMediaType.CD in m.media_types][0]
cd.insert_media(sys.argv[5])
cd.refresh()
out['media_after_insert'] = [cd.image, cd.inserted]
system.reset_system(sushy.ResetType.ON)
deadline = time.time() + 10
while time.time() < deadline:
    state = root._conn.get('/redfish/v1/Systems/' + system_id).json()['BootProgress']['LastState']
    if state == 'OSRunning':
        break
    time.sleep(0.02)
out['last_state'] = state
cd.eject_media()
cd.refresh()
out['media_after_eject'] = [cd.image, cd.inserted]
system.reset_system(sushy.ResetType.FORCE_OFF)
system.refresh()
out['power_after'] = system.power_state.value
root._auth.close()
print(json.dumps(out))
`;

function runSushy(url: string, systemId: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON!, ['-c', SCRIPT, url, USER, PASS, systemId, IMAGE], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sushy failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

describe.skipIf(!PYTHON)('python sushy drives the lab Redfish service', () => {
  const servers: LabRedfish[] = [];
  let bmc: LabRedfish;
  beforeAll(async () => {
    bmc = await startLabRedfish({
      username: USER,
      password: PASS,
      installMs: 100,
      systems: [
        { id: 'ctl-01', hostName: 'ctl-01', profile: 'controller-std', hostId: 'dc1-ctl-01' },
        { id: 'cmp-01', hostName: 'cmp-01', profile: 'compute-std', hostId: 'dc1-cmp-01' },
      ],
    });
    servers.push(bmc);
  });
  afterAll(async () => Promise.all(servers.map((s) => s.stop())));

  it('reads the system, sets a boot override, inserts media, powers on to an install, ejects and powers off', async () => {
    const p = PROFILES['controller-std']!;
    const out = await runSushy(bmc.url, 'ctl-01');
    expect(out).toMatchObject({
      redfish_version: expect.stringMatching(/^1\./),
      members: 2,
      identity: 'ctl-01',
      hostname: 'ctl-01',
      power_before: 'Off',
      cpus: p.cpus,
      memory_gib: p.memoryMib / 1024,
      macs: Array.from({ length: p.nics }, (_, i) => labMac('dc1-ctl-01', i)).sort(),
      disk_bytes: p.disks.map(([, gib]) => gib * 2 ** 30).sort((a, b) => a - b),
      drive_bytes: p.disks.map(([, gib]) => gib * 2 ** 30).sort((a, b) => a - b),
      boot_after_patch: ['Cd', 'Once', 'UEFI'],
      media_after_insert: [IMAGE, true],
      last_state: 'OSRunning',
      media_after_eject: [null, false],
      power_after: 'Off',
    });
    expect(out['boot_targets']).toEqual(expect.arrayContaining(['Cd', 'Hdd', 'Pxe']));
    expect(out['reset_types']).toEqual(expect.arrayContaining(['On', 'ForceOff', 'ForceRestart']));
    expect(bmc.system('ctl-01')).toMatchObject({ installedImage: IMAGE, installs: 1, powerState: 'Off' });
    // sushy logged in with a session (its default) and out again at the end.
    expect(bmc.stats()).toMatchObject({ logins: 1, logouts: 1, activeSessions: 0 });
  });

  it('falls back to HTTP Basic where the service offers no SessionService', async () => {
    const basic = await startLabRedfish({ username: USER, password: PASS, installMs: 50, sessions: false, systems: [{ id: 'cmp-02', hostName: 'cmp-02', profile: 'compute-std' }] });
    servers.push(basic);
    const out = await runSushy(basic.url, 'cmp-02');
    expect(out).toMatchObject({ last_state: 'OSRunning', power_after: 'Off' });
    expect(basic.stats()).toMatchObject({ logins: 0 });
    expect(basic.stats().basicAuthRequests).toBeGreaterThan(10);
  });
});
