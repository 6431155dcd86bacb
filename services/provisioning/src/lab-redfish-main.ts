import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { PROFILES } from './adapters/lab/lab-driver';
import { startLabRedfish, type LabSystemSpec, type SystemFaults } from './adapters/lab/redfish-bmc';

const USAGE = `usage: lab-redfish-main [--fleet FILE | --count N [--profile P] [--prefix NAME]] [--port 8000] [--host 127.0.0.1]
                        [--username admin] [--password-env VAR] [--install-ms 2000] [--power-ms 0]
                        [--tls-key FILE --tls-cert FILE] [--no-sessions] [--fault ID:FAULT[=VALUE]]...

  Serves the lab fleet's BMCs as one DMTF Redfish endpoint (many systems, each with a Manager with
  virtual media and a Chassis), for the redfish driver and for Ironic's redfish hardware type.

  --fleet FILE    YAML or JSON: a site file (site.id, hosts[].name/profile, as examples/sample-site.yaml)
                  or { systems: [{ id, hostName, profile, hostId?, siteId?, powerState?, faults? }] }
  --count N       N systems named <prefix>-001... (default prefix "node", profile compute-std)
  --password-env  the environment variable holding the password (default LAB_REDFISH_PASSWORD;
                  "password" when unset: it is a lab)
  --fault         ID:unresponsive | ID:error5xx | ID:installFails | ID:latencyMs=N (repeatable)
  Prints the URL on the first line, then one line per system; Ctrl-C stops.`;

interface FleetFile {
  site?: { id?: string };
  hosts?: { name?: string; profile?: string }[];
  systems?: LabSystemSpec[];
}

/** The systems of a fleet file: a site file's hosts (ids and MACs as the platform derives them) or a list of systems. */
export function fleetSystems(text: string, file: string): LabSystemSpec[] {
  const doc = (file.endsWith('.json') ? JSON.parse(text) : parse(text)) as FleetFile | null;
  if (doc?.systems) return doc.systems;
  if (doc?.hosts) {
    const siteId = doc.site?.id ?? 'lab';
    return doc.hosts.map((h, i) => {
      if (!h.name) throw new Error(`${file}: hosts[${i}] has no name`);
      return { id: h.name, hostName: h.name, profile: h.profile ?? 'compute-std', hostId: `${siteId}-${h.name}`, siteId };
    });
  }
  throw new Error(`${file}: expected "systems" (lab Redfish fleet) or "hosts" (a site file)`);
}

export function parseFault(s: string): [string, SystemFaults] {
  const m = /^([A-Za-z0-9._-]+):(unresponsive|error5xx|installFails|latencyMs=([0-9]+))$/.exec(s);
  if (!m) throw new Error(`--fault "${s}" must be ID:unresponsive, ID:error5xx, ID:installFails or ID:latencyMs=N`);
  const kind = m[2]!.split('=')[0] as keyof SystemFaults;
  return [m[1]!, { [kind]: kind === 'latencyMs' ? Number(m[3]) : true }];
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        fleet: { type: 'string' },
        count: { type: 'string' },
        profile: { type: 'string', default: 'compute-std' },
        prefix: { type: 'string', default: 'node' },
        port: { type: 'string', default: '8000' },
        host: { type: 'string', default: '127.0.0.1' },
        username: { type: 'string', default: 'admin' },
        'password-env': { type: 'string', default: 'LAB_REDFISH_PASSWORD' },
        'install-ms': { type: 'string', default: '2000' },
        'power-ms': { type: 'string', default: '0' },
        'tls-key': { type: 'string' },
        'tls-cert': { type: 'string' },
        'no-sessions': { type: 'boolean', default: false },
        fault: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    process.stderr.write(`lab-redfish: ${(e as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const usage = (msg: string): number => {
    process.stderr.write(`lab-redfish: ${msg}\n${USAGE}\n`);
    return 64;
  };
  let systems: LabSystemSpec[];
  const faults: Record<string, SystemFaults> = {};
  try {
    if (values.fleet) {
      systems = fleetSystems(readFileSync(values.fleet, 'utf8'), values.fleet);
    } else {
      const n = Number(values.count ?? '4');
      if (!Number.isInteger(n) || n < 1 || n > 10_000) return usage('--count must be 1..10000');
      if (!PROFILES[values.profile]) return usage(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`);
      systems = Array.from({ length: n }, (_, i) => {
        const name = `${values.prefix}-${String(i + 1).padStart(3, '0')}`;
        return { id: name, hostName: name, profile: values.profile, hostId: `lab-${name}`, siteId: 'lab' };
      });
    }
    for (const f of values.fault) {
      const [id, fault] = parseFault(f);
      faults[id] = { ...faults[id], ...fault };
    }
  } catch (e) {
    return usage((e as Error).message);
  }
  if (Boolean(values['tls-key']) !== Boolean(values['tls-cert'])) return usage('--tls-key and --tls-cert go together');
  // eslint-disable-next-line n/no-process-env
  const password = process.env[values['password-env']] || 'password';
  const bmc = await startLabRedfish({
    port: Number(values.port),
    host: values.host,
    username: values.username,
    password,
    systems,
    faults,
    installMs: Number(values['install-ms']),
    powerMs: Number(values['power-ms']),
    sessions: !values['no-sessions'],
    ...(values['tls-key'] && values['tls-cert'] ? { tls: { key: readFileSync(values['tls-key']), cert: readFileSync(values['tls-cert']) } } : {}),
  });
  process.stdout.write(`${bmc.url}\n`);
  process.stdout.write(`lab redfish: ${systems.length} systems at ${bmc.url}/redfish/v1/Systems (user ${values.username}; bmcAddress ${bmc.address})\n`);
  for (const s of systems) process.stdout.write(`  ${s.id.padEnd(16)} ${s.profile.padEnd(16)} ${bmc.url}/redfish/v1/Systems/${s.id}${faults[s.id] ? `  faults ${JSON.stringify(faults[s.id])}` : ''}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await bmc.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`lab-redfish: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
