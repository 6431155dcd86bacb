import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { REPO_ROOT } from '@stackyard/devinfra';
import { isStackyardError } from '@stackyard/errors';
import { configImport, DEFAULT_INVENTORY } from './config-import';
import { abortNode, listNodes, retryNode, showNode, watchSite } from './nodes';
import { BAREMETAL_ACTIONS, baremetalAction, baremetalQueue, baremetalShow } from './baremetal';
import { secretCommand } from './secret';
import { overcloud } from './overcloud';
import { parseOvercloud } from './overcloud-plan';
import { up } from './up';
import { OPEN_ACCESS, resolveAccess, type Access } from './access';
import { physicalNetworkConfigure } from './physical-network';
import { recordsCommand } from './records';

const USAGE = `usage: stackyard up [--site FILE | --kayobe-config DIR [--environment E]] [--timeout SECONDS] [--json] [--keep] [--lab-latency-ms N] [--fail HOST:STEP]
       stackyard config import DIR [--environment E] [--site S] [--dry-run] [--json] [--inventory HOST:PORT]

  up             start NATS, FerretDB and the five services on this machine, deploy the site in FILE
                 (default examples/sample-site.yaml) with lab drivers and follow every node to ready.
                 --kayobe-config DIR imports a Kayobe configuration (etc/kayobe) instead: its networks
                 with a cidr are defined, its overcloud hosts registered with lab BMCs and followed.
                 Uses NATS_URL / MONGO_URL when set instead of starting local servers.
                 --keep leaves everything running afterwards (the dashboard and inventory addresses are printed).
                 exit codes: 0 every node ready, 1 some node failed, 2 timeout, 3 the platform did not start, 64 usage
  config import  ask a running inventory service (--inventory, default $STACKYARD_INVENTORY or ${DEFAULT_INVENTORY})
                 to import the Kayobe configuration in DIR into site S (default "default"). DIR is read by the
                 service, on its machine. Prints the hosts with their groups and networks, and the warnings.
                 Starts nothing. --dry-run writes nothing. $STACKYARD_TOKEN is sent as the API token when set.
                 exit codes: 0 imported, 1 rejected or failed (nothing imported), 64 usage
       stackyard nodes --site S | node show HOST_ID | retry HOST_ID | abort HOST_ID | watch --site S [--until-done]  [--json] [--monitoring HOST:PORT]
  nodes          a site's nodes with their state and last step (exit 0 all ready, 1 some failed, 2 some in progress)
  node show      one node's pipeline, step by step, and why it failed
  retry          run a failed node's failed step again (exit 1 if the node has not failed)
  abort          stop a node: remove its services, release its addresses, deprovision it (in that order)
  watch          follow a site live (Ctrl-C stops; --until-done ends when every node is ready or failed)
                 These ask a running monitoring service (--monitoring, default $STACKYARD_MONITORING, printed by up --keep).
       stackyard baremetal HOST_ID show | HOST_ID ACTION [--wait] [--timeout SECONDS] | queue  [--json] [--provisioning HOST:PORT]
  baremetal      one node's bare-metal side (Ironic's provision state, power, what it allows), an action on it, or the
                 work queue (what holds and waits for the deploy, inspect, per-site and per-BMC limits).
                 ACTION: ${BAREMETAL_ACTIONS.join(', ')} (checked against Ironic's state machine;
                 a refused action exits 1 saying what is allowed). --wait follows it to its end (exit 1 if it failed,
                 2 at --timeout). Asks a running provisioning service (--provisioning, default $STACKYARD_PROVISIONING).
       stackyard overcloud VERB --site S [--limit HOST|GROUP,...] [--yes] [--release R] [--timeout SECONDS] [--json]
                 [--inventory HOST:PORT] [--provisioning HOST:PORT] [--network HOST:PORT] [--deployment HOST:PORT]
  overcloud      Kayobe's overcloud verbs on a running platform (addresses default to $STACKYARD_<SERVICE>, printed by
                 up --keep; inventory also to ${DEFAULT_INVENTORY}). --limit: host names, host ids or groups, or all.
    inventory [discover]   the site's hosts by group with BMC driver, address and state (inventory's ListHosts)
    hardware inspect       manage (unless manageable) then inspect each node, waiting for each; a node not in enroll,
                           manageable, available or inspect failed is refused with its state
    provision              enroll -> manage, manageable -> provide, available -> deploy, each waited for; active skipped
    deprovision            undeploy the --limit nodes (required; --limit all for every one); needs --yes
    host configure         each host's addresses and rendered network files (the saga configures host networks)
    service deploy         each node's Kolla deployment (the saga deploys services; 2 while some are on their way)
    service diff           the generated Kolla inputs against the applied ones, per file and host
    service reconfigure    kolla-ansible reconfigure over every host of the site, a result per host
    service upgrade        kolla-ansible upgrade to --release R, a result per host
    service destroy        kolla-ansible destroy of every container and volume of the site; needs --yes
                 --limit is refused for diff, reconfigure, upgrade and destroy (they act on the whole site).
                 exit codes: 0 ok, 1 refused or failed, 2 timeout (--timeout, default 300 s) or still in progress,
                 3 service unreachable, 64 usage (also: no confirmation, a --limit that matches no host)
       stackyard physical network configure --site S --switches FILE [--group G] [--display] [--enable-discovery | --disable-discovery]
                 [--interface-limit NAME,... | --interface-description-limit DESC,...] [--json] [--network HOST:PORT]
  physical network configure
                 Kayobe's verb: the switch inventory in FILE (switches: {NAME: {switch_type, group, ansible_host,
                 switch_config, switch_interface_config, ...}}) rendered per switch (arista, dellos10, junos, nvue),
                 each port's VLANs derived from the site's hosts cabled to it (LLDP), and applied by the network
                 service's switch executor. --display prints what would be applied and applies nothing. --group:
                 switches (default), mgmt-switches, ctl-switches or hs-switches. Asks a running network service
                 (--network, default $STACKYARD_NETWORK). Host/NIC notes go to stderr.
                 exit codes: 0 rendered or applied, 1 rejected (nothing applied) or a switch failed, 3 network
                 service unreachable, 64 usage
       stackyard group list --site S | group show GROUP_ID | deployment show DEPLOYMENT_ID  [--json] [--inventory HOST:PORT]
  group          a site's group records (children, variables), or one group with its member hosts
  deployment     one deployment (desired state: hosts, groups, roles, enabled and disabled Kolla services);
                 a Kayobe import creates <site>-kayobe. Exit 0, 1 when the call failed (e.g. not found), 64 usage
       stackyard secret keygen | secret seal --key-file FILE
  secret         keygen prints a new key for BMC_CREDENTIALS_KEY_FILE; seal reads one secret on stdin and prints it
                 sealed (enc:v1:...) for a BMC credentials file. Nothing is sent anywhere.

  A secured platform (every command but up and secret):
    --token TOKEN | --token-file FILE   the API token, sent as "authorization: Bearer" ($STACKYARD_TOKEN, $STACKYARD_TOKEN_FILE)
    --tls-ca FILE                       TLS, trusting this CA ($STACKYARD_TLS_CA)
    --tls-cert FILE --tls-key FILE      mutual TLS: the client certificate and key ($STACKYARD_TLS_CERT, $STACKYARD_TLS_KEY)
                 Flags win over the environment. A call the service refuses (UNAUTHENTICATED, PERMISSION_DENIED) prints
                 its reason (x-stackyard-reason) and what to do, and exits 1; a bad flag exits 64.`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        site: { type: 'string' },
        'kayobe-config': { type: 'string' },
        environment: { type: 'string', default: '' },
        'dry-run': { type: 'boolean', default: false },
        inventory: { type: 'string' },
        monitoring: { type: 'string' },
        provisioning: { type: 'string' },
        network: { type: 'string' },
        deployment: { type: 'string' },
        limit: { type: 'string' },
        yes: { type: 'boolean', default: false },
        release: { type: 'string' },
        'key-file': { type: 'string' },
        switches: { type: 'string' },
        group: { type: 'string' },
        display: { type: 'boolean', default: false },
        'enable-discovery': { type: 'boolean', default: false },
        'disable-discovery': { type: 'boolean', default: false },
        'interface-limit': { type: 'string' },
        'interface-description-limit': { type: 'string' },
        wait: { type: 'boolean', default: false },
        'until-done': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '300' },
        json: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        'lab-latency-ms': { type: 'string', default: '50' },
        fail: { type: 'string', multiple: true, default: [] },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`stackyard: ${(e as Error).message}\n${USAGE}\n`);
    return 64;
  }
  const cmd = args.positionals[0];
  if (args.values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return args.values.help ? 0 : 64;
  }
  // eslint-disable-next-line n/no-process-env
  const env = process.env;
  // The API token and TLS of every command that asks a running service (checked before any call).
  let access: Access = OPEN_ACCESS;
  if (cmd !== 'up' && cmd !== 'secret') {
    const a = resolveAccess(args.values, env);
    if (!a.ok) {
      process.stderr.write(`stackyard: ${a.message}\n`);
      return 64;
    }
    access = a.access;
  }
  if (cmd === 'nodes' || cmd === 'node' || cmd === 'retry' || cmd === 'abort' || cmd === 'watch') {
    const monitoring = (args.values.monitoring as string | undefined) || env['STACKYARD_MONITORING'];
    if (!monitoring) {
      process.stderr.write('stackyard: where is monitoring? pass --monitoring HOST:PORT or set STACKYARD_MONITORING (`stackyard up --keep` prints it)\n');
      return 64;
    }
    const o = {
      monitoring,
      token: access.token,
      credentials: access.credentials,
      json: args.values.json as boolean,
      out: (l: string) => process.stdout.write(`${l}\n`),
      err: (l: string) => process.stderr.write(`${l}\n`),
    };
    const site = args.values.site as string | undefined;
    const [a, b] = args.positionals.slice(1);
    if (cmd === 'nodes' && site) return listNodes(site, o);
    if (cmd === 'watch' && site) return watchSite(site, args.values['until-done'] as boolean, o);
    if (cmd === 'node' && a === 'show' && b) return showNode(b, o);
    if (cmd === 'retry' && a) return retryNode(a, env['USER'] || 'cli', o);
    if (cmd === 'abort' && a) return abortNode(a, env['USER'] || 'cli', o);
    process.stderr.write(`stackyard: ${cmd}: missing ${cmd === 'node' ? '`show HOST_ID`' : cmd === 'retry' || cmd === 'abort' ? 'HOST_ID' : '--site S'}\n${USAGE}\n`);
    return 64;
  }
  if (cmd === 'overcloud') {
    const v = args.values;
    const parsed = parseOvercloud(args.positionals.slice(1), {
      site: v.site as string | undefined,
      limit: v.limit as string | undefined,
      yes: v.yes as boolean,
      release: v.release as string | undefined,
      json: v.json as boolean,
      timeout: v.timeout as string,
      inventory: v.inventory as string | undefined,
      provisioning: v.provisioning as string | undefined,
      network: v.network as string | undefined,
      deployment: v.deployment as string | undefined,
    }, env);
    if (!parsed.ok) {
      process.stderr.write(`stackyard: ${parsed.message}\n`);
      return 64;
    }
    return overcloud(parsed.request, {
      token: access.token,
      credentials: access.credentials,
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd === 'physical') {
    const v = args.values;
    const verb = args.positionals.slice(1).join(' ');
    if (verb !== 'network configure') {
      process.stderr.write(`stackyard: expected \`physical network configure\`, got \`physical ${verb}\`\n`);
      return 64;
    }
    const site = v.site as string | undefined;
    const switchesFile = v.switches as string | undefined;
    if (!site || !switchesFile) {
      process.stderr.write(`stackyard: physical network configure: missing ${!site ? '--site S' : '--switches FILE'}\n`);
      return 64;
    }
    const network = (v.network as string | undefined) || env['STACKYARD_NETWORK'];
    if (!network) {
      process.stderr.write('stackyard: where is network? pass --network HOST:PORT or set STACKYARD_NETWORK (`stackyard up --keep` prints it)\n');
      return 64;
    }
    if (!/^[^\s:]+:\d+$/.test(network)) {
      process.stderr.write(`stackyard: --network must be HOST:PORT, got "${network}"\n`);
      return 64;
    }
    return physicalNetworkConfigure({
      site,
      switchesFile,
      group: (v.group as string | undefined) ?? '',
      display: v.display as boolean,
      enableDiscovery: v['enable-discovery'] as boolean,
      disableDiscovery: v['disable-discovery'] as boolean,
      interfaceLimit: v['interface-limit'] as string | undefined,
      interfaceDescriptionLimit: v['interface-description-limit'] as string | undefined,
      json: v.json as boolean,
      network,
      token: access.token,
      credentials: access.credentials,
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd === 'secret') {
    return secretCommand(args.positionals.slice(1), args.values['key-file'] as string | undefined, {
      stdin: process.stdin,
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd === 'baremetal') {
    const provisioning = (args.values.provisioning as string | undefined) || env['STACKYARD_PROVISIONING'];
    if (!provisioning) {
      process.stderr.write('stackyard: where is provisioning? pass --provisioning HOST:PORT or set STACKYARD_PROVISIONING (`stackyard up --keep` prints it)\n');
      return 64;
    }
    const o = {
      provisioning,
      token: access.token,
      credentials: access.credentials,
      json: args.values.json as boolean,
      wait: args.values.wait as boolean,
      timeoutMs: Number(args.values.timeout) * 1000,
      out: (l: string) => process.stdout.write(`${l}\n`),
      err: (l: string) => process.stderr.write(`${l}\n`),
    };
    const [a, b, ...rest] = args.positionals.slice(1);
    if (a === 'queue' && !b) return baremetalQueue(o);
    if (a && b === 'show' && !rest.length) return baremetalShow(a, o);
    if (a && b && !rest.length && (BAREMETAL_ACTIONS as readonly string[]).includes(b)) return baremetalAction(a, b, o);
    process.stderr.write(`stackyard: baremetal: expected \`HOST_ID show\`, \`HOST_ID ACTION\` (ACTION one of ${BAREMETAL_ACTIONS.join(', ')}) or \`queue\`\n`);
    return 64;
  }
  if (cmd === 'group' || cmd === 'deployment') {
    const [verb, id, ...rest] = args.positionals.slice(1);
    const site = args.values.site as string | undefined;
    const arg = cmd === 'group' && verb === 'list' ? site : id;
    const ok = cmd === 'group' ? (verb === 'list' ? !id : verb === 'show') : verb === 'show';
    if (!ok || !verb || !arg || rest.length) {
      process.stderr.write(`stackyard: expected \`group list --site S\`, \`group show GROUP_ID\` or \`deployment show DEPLOYMENT_ID\`\n`);
      return 64;
    }
    const inventory = (args.values.inventory as string | undefined) || env['STACKYARD_INVENTORY'] || DEFAULT_INVENTORY;
    if (!/^[^\s:]+:\d+$/.test(inventory)) {
      process.stderr.write(`stackyard: --inventory must be HOST:PORT, got "${inventory}"\n`);
      return 64;
    }
    return recordsCommand(cmd, verb, arg, {
      inventory,
      token: access.token,
      credentials: access.credentials,
      json: args.values.json as boolean,
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd === 'config') {
    const [sub, dir, ...rest] = args.positionals.slice(1);
    if (sub !== 'import' || !dir || rest.length) {
      process.stderr.write(`stackyard: expected \`config import DIR\`\n${USAGE}\n`);
      return 64;
    }
    const inventory = (args.values.inventory as string | undefined) || env['STACKYARD_INVENTORY'] || DEFAULT_INVENTORY;
    if (!/^[^\s:]+:\d+$/.test(inventory)) {
      process.stderr.write(`stackyard: --inventory must be HOST:PORT, got "${inventory}"\n`);
      return 64;
    }
    return configImport({
      dir,
      environment: args.values.environment as string,
      site: (args.values.site as string | undefined) ?? '',
      dryRun: args.values['dry-run'] as boolean,
      json: args.values.json as boolean,
      inventory,
      token: access.token,
      credentials: access.credentials,
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd !== 'up') {
    process.stderr.write(`stackyard: unknown command "${cmd}"\n${USAGE}\n`);
    return 64;
  }
  if (args.positionals.length > 1) {
    process.stderr.write(`stackyard: up takes no argument, got "${args.positionals.slice(1).join(' ')}"\n${USAGE}\n`);
    return 64;
  }
  const timeout = Number(args.values.timeout);
  const latency = Number(args.values['lab-latency-ms']);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    process.stderr.write(`stackyard: --timeout must be a positive number of seconds, got "${args.values.timeout}"\n`);
    return 64;
  }
  if (!Number.isInteger(latency) || latency < 0) {
    process.stderr.write(`stackyard: --lab-latency-ms must be a non-negative integer, got "${args.values['lab-latency-ms']}"\n`);
    return 64;
  }
  // Faults for demos: --fail ctl-02:inspect (provisioning steps; ctl-02:inspect:1 fails only the first
  // attempt, so an operator retry succeeds), --fail cmp-01:network, --fail cmp-01:services
  const fails = args.values.fail as string[];
  const byStep = (steps: string[]) => fails.filter((f) => steps.includes(f.split(':')[1] ?? '')).join(',');
  const hostsOf = (step: string) => fails.filter((f) => f.endsWith(`:${step}`)).map((f) => f.split(':')[0]).join(',');
  const bad = fails.find((f) => !/^[a-z0-9-]+:((enroll|inspect|deploy)(:[0-9]+)?|network|services)$/.test(f));
  if (bad) {
    process.stderr.write(`stackyard: --fail "${bad}" must be <host>:<enroll|inspect|deploy>[:<failing attempts>] or <host>:<network|services>\n`);
    return 64;
  }
  const kayobeDir = args.values['kayobe-config'] as string | undefined;
  if (kayobeDir && args.values.site) {
    process.stderr.write('stackyard: --site FILE and --kayobe-config DIR are alternatives\n');
    return 64;
  }
  try {
    return await up({
      siteFile: (args.values.site as string | undefined) ?? join(REPO_ROOT, 'examples/sample-site.yaml'),
      ...(kayobeDir ? { kayobeConfig: { dir: kayobeDir, environment: args.values.environment as string } } : {}),
      timeoutMs: timeout * 1000,
      natsUrl: env['NATS_URL'] || undefined,
      mongoUrl: env['MONGO_URL'] || undefined,
      json: args.values.json as boolean,
      keep: args.values.keep as boolean,
      env: {
        provisioning: { LAB_LATENCY_MS: String(latency), LAB_FAIL_STEPS: byStep(['enroll', 'inspect', 'deploy']) },
        network: { LAB_LATENCY_MS: String(Math.round(latency / 2)), LAB_FAIL_HOSTS: hostsOf('network') },
        deployment: { LAB_CONTAINER_LATENCY_MS: String(Math.round(latency / 10)), LAB_FAIL_HOSTS: hostsOf('services') },
      },
      out: (l) => process.stdout.write(`${l}\n`),
    });
  } catch (e) {
    const msg = isStackyardError(e) ? e.message : (e as Error).message;
    process.stderr.write(`stackyard: ${msg}\n`);
    if (env['STACKYARD_DEBUG']) process.stderr.write(`${(e as Error).stack}\n`);
    return isStackyardError(e) && e.reason === 'InvalidArgument' ? 64 : 3;
  }
}

// A failure nobody awaited (a stream or socket error) still ends with a message and exit code 3,
// never a bare stack trace.
process.on('unhandledRejection', (e) => {
  process.stderr.write(`stackyard: unexpected error: ${(e as Error)?.message ?? String(e)}\n${(e as Error)?.stack ?? ''}\n`);
  process.exit(3);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`stackyard: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(3);
  },
);
