import { createHash } from 'node:crypto';
import { StepFailedError } from '@stackyard/errors';
import type { Disk, HardwareFacts, Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { BareMetalDriver, BmcCredentials, DeployRequest, DriverCall, PowerAction, PowerState } from '../../application/ports';
import type { NodeData } from '../../domain/node';
import { IronicApiError, IronicClient, sleep } from './client';
import { networkData } from './config-drive';

/**
 * The `ironic` bare-metal driver: drives a node through OpenStack Ironic's provision states the way
 * Kayobe drives Bifrost's Ironic (reference/kayobe.md §6.4-6.6): create + manage (verify the BMC),
 * inspect, provide + deploy with a config drive, undeploy + power off. Every call is idempotent: it
 * reads the node's provision state first and only does what is still missing.
 *
 * Node identity: the Ironic node's UUID is the host id when that is a UUID, else a name-based
 * (v5) UUID derived from the host id, so the same host always maps to the same Ironic node; the
 * node's name is the host name (unique in Ironic).
 */

export type IronicHardwareType = 'fake-hardware' | 'redfish' | 'ipmi';

export interface IronicTimeouts {
  /** enroll -> manageable (Kayobe wait_manageable_timeout 60 s). */
  readonly manageableMs: number;
  /** inspection (Kayobe inspector_inspection_timeout 1200 s). */
  readonly inspectMs: number;
  /** manageable -> available (Kayobe wait_available_timeout 60 s). */
  readonly availableMs: number;
  /** available -> active (Kayobe wait_active_timeout 600 s). */
  readonly activeMs: number;
  /** active -> available on undeploy (Kayobe deprovision: 600 s). */
  readonly deletedMs: number;
  /** power state change (Ironic power_state_change_timeout 60 s). */
  readonly powerMs: number;
}

export interface IronicDriverOptions {
  /** Ironic API endpoint, e.g. http://bifrost:6385 (with or without /v1). */
  readonly url: string;
  /** Hardware type of the nodes this driver creates; default fake-hardware. */
  readonly hardwareType?: IronicHardwareType;
  /** Provision/power state polling interval (Kayobe: 10 s). */
  readonly pollIntervalMs?: number;
  /** "is locked by host" retries and their interval (Kayobe: 6 x 5 s). */
  readonly lockedRetries?: number;
  readonly lockedRetryIntervalMs?: number;
  readonly timeouts?: Partial<IronicTimeouts>;
  /** redfish_verify_ca: true/false or a CA bundle path on the conductor; unset = Ironic's default. */
  readonly verifyCa?: boolean | string;
  /** Per-request HTTP timeout; default IRONIC_REQUEST_TIMEOUT_MS (150 s: longer than Ironic's own wait for its conductor). */
  readonly requestTimeoutMs?: number;
}

export const IRONIC_DEFAULT_TIMEOUTS: IronicTimeouts = {
  manageableMs: 60_000,
  inspectMs: 1_200_000,
  availableMs: 60_000,
  activeMs: 600_000,
  deletedMs: 600_000,
  powerMs: 60_000,
};

/** The parts of an Ironic node this driver reads. */
export interface IronicNode {
  readonly uuid: string;
  readonly name: string | null;
  readonly driver: string;
  readonly provision_state: string;
  readonly target_provision_state: string | null;
  readonly power_state: string | null;
  readonly target_power_state: string | null;
  readonly last_error: string | null;
  readonly maintenance: boolean;
  readonly properties: Record<string, unknown>;
  /** In the poller's list (`POLLED_FIELDS`), secrets masked by Ironic; the enroll step compares it. */
  readonly driver_info?: Record<string, unknown>;
  /** Left out of the poller's list (`POLLED_FIELDS`): read a node by id for these. */
  readonly instance_info?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
}

/**
 * The node fields the poller asks for (`GET /v1/nodes?fields=`, API 1.8): what a wait reads, not
 * the whole node (instance, driver and extra info, links...), which Ironic's single API worker
 * would serialise for every node at every poll.
 */
export const POLLED_FIELDS = ['uuid', 'name', 'driver', 'driver_info', 'provision_state', 'target_provision_state', 'power_state', 'target_power_state', 'last_error', 'maintenance', 'properties'] as const;

interface IronicPort {
  readonly address: string;
  readonly local_link_connection?: Record<string, unknown> | null;
  readonly extra?: Record<string, unknown> | null;
}

/** States in which a node is busy with something; callers wait these out. */
const INSPECTING = ['inspecting', 'inspect wait'];
const DEPLOYING = ['deploying', 'wait call-back'];
const CLEANING = ['cleaning', 'clean wait'];
const UNDEPLOYING = ['deleting', 'deleted', ...CLEANING];
const BUSY = ['verifying', ...INSPECTING, ...DEPLOYING, ...UNDEPLOYING, 'adopting', 'rescuing', 'unrescuing', 'servicing', 'service wait'];
/** Kayobe overcloud-hardware-inspect: inspection starts only from these. */
const INSPECTABLE = ['enroll', 'manageable', 'available', 'inspect failed'];
/** States from which `deleted` (undeploy) is accepted. */
const UNDEPLOYABLE = ['active', 'deploy failed', 'wait call-back', 'error'];

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Namespace of the name-based UUIDs derived from Stackyard host ids. */
const HOST_NAMESPACE = 'b3c4f6f0-5a0e-4f8e-9c1d-7e2a51d0c0de';

/** RFC 4122 version 5 UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace = HOST_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The Ironic node UUID of a Stackyard node. */
export function ironicUuid(node: NodeData): string {
  return UUID_RE.test(node.host.hostId) ? node.host.hostId.toLowerCase() : uuidV5(node.host.hostId);
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Splits `https://10.0.0.5/redfish/v1/Systems/1` into the BMC address and the system id. */
export function redfishTarget(bmcAddress: string): { address: string; systemId?: string } {
  // redfish:// and redfish+https:// mean https, redfish+http:// means http; no scheme means https.
  const url = bmcAddress
    .replace(/^redfish\+http:\/\//i, 'http://')
    .replace(/^redfish(\+https)?:\/\//i, 'https://');
  const u = new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`);
  const path = u.pathname.replace(/\/+$/, '');
  const address = `${u.protocol}//${u.host}`;
  return path ? { address, systemId: path } : { address };
}

/**
 * Hardware facts from the inspection inventory (GET /v1/nodes/{id}/inventory, API 1.81: the data
 * ironic-python-agent reported, with plugin_data's processed LLDP).
 */
export function factsFromInventory(inventory: Record<string, unknown>, pluginData: Record<string, unknown> | undefined): HardwareFacts {
  const cpu = (inventory['cpu'] ?? {}) as Record<string, unknown>;
  const memory = (inventory['memory'] ?? {}) as Record<string, unknown>;
  const memoryMib = num(memory['physical_mb']) || Math.round(num(memory['total']) / 1024 / 1024);
  const disks: Disk[] = ((inventory['disks'] ?? []) as Record<string, unknown>[]).map((d) => ({
    name: str(d['name']).replace(/^\/dev\//, ''),
    sizeGib: Math.round(num(d['size']) / 1024 ** 3),
    rotational: d['rotational'] === true,
  }));
  const allIfaces = (pluginData?.['all_interfaces'] ?? {}) as Record<string, Record<string, unknown>>;
  const parsedLldp = (pluginData?.['parsed_lldp'] ?? {}) as Record<string, Record<string, unknown>>;
  const nics: Nic[] = ((inventory['interfaces'] ?? []) as Record<string, unknown>[]).map((i) => {
    const name = str(i['name']);
    const lldp = (allIfaces[name]?.['lldp_processed'] ?? parsedLldp[name] ?? {}) as Record<string, unknown>;
    return {
      name,
      macAddress: str(i['mac_address']).toLowerCase(),
      speedMbps: num(i['speed_mbps']),
      lldpSwitch: str(lldp['switch_system_name']) || str(lldp['switch_chassis_id']),
      lldpPort: str(lldp['switch_port_id']) || str(lldp['switch_port_description']),
    };
  });
  return { cpuCount: num(cpu['count']), cpuModel: str(cpu['model_name']) || str(cpu['architecture']), memoryMib, disks, nics };
}

/**
 * Hardware facts from what inspection leaves on the node itself, for Ironics without the inventory
 * API or nodes without stored inventory (fake-hardware, out-of-band redfish inspection): properties
 * cpus, memory_mb, local_gb, cpu_arch, and the node's ports (MACs; local_link_connection
 * switch_info/port_id as the LLDP neighbour). Ironic has no CPU model there: cpuModel is cpu_arch.
 */
export function factsFromProperties(properties: Record<string, unknown>, ports: readonly IronicPort[]): HardwareFacts {
  const localGb = num(properties['local_gb']);
  const nics: Nic[] = [...ports]
    .sort((a, b) => a.address.localeCompare(b.address))
    .map((p, i) => {
      const llc = p.local_link_connection ?? {};
      return {
        name: str(p.extra?.['nic_name']) || `nic${i}`,
        macAddress: p.address.toLowerCase(),
        speedMbps: 0,
        lldpSwitch: str(llc['switch_info']) || str(llc['switch_id']),
        lldpPort: str(llc['port_id']),
      };
    });
  return {
    cpuCount: num(properties['cpus']),
    cpuModel: str(properties['cpu_model']) || str(properties['cpu_arch']),
    memoryMib: num(properties['memory_mb']),
    disks: localGb > 0 ? [{ name: 'root', sizeGib: localGb, rotational: false }] : [],
    nics,
  };
}

/**
 * Polls Ironic for every node the driver is waiting on with ONE list request per interval
 * (`GET /v1/nodes?fields=<POLLED_FIELDS>`, paged), instead of one `GET /v1/nodes/{id}` per node: Kayobe's Ansible
 * loops (and a plain script) poll each node on its own, which saturates a single ironic-api with
 * hundreds of nodes (bench/ironic.ts). A node missing from the list is not in Ironic.
 *
 * Every step's first read of its node comes from here too (`first`), batched apart within
 * `FIRST_READ_MS` instead of waiting for the next interval: a burst of step starts (100 hosts
 * registered at once) costs a few list requests where it cost a `GET` per node in an API already
 * busy with the first nodes' verbs. With only a few nodes to read (`SMALL_BATCH`), each is read on
 * its own: a list of a large Ironic would cost more than those `GET`s.
 */
const FIRST_READ_MS = 200;
const SMALL_BATCH = 3;

type Waiter = (n: IronicNode | undefined, e?: unknown) => void;

/** Nodes waiting for one read, and the timer that will read them. */
class ReadBatch {
  readonly waiters = new Map<string, Waiter[]>();
  timer: NodeJS.Timeout | undefined;
}

class BatchPoller {
  /** Waits for a state change: read every interval. */
  private readonly polls = new ReadBatch();
  /** Steps' first reads: read within FIRST_READ_MS. */
  private readonly firstReads = new ReadBatch();

  constructor(
    private readonly client: IronicClient,
    private readonly intervalMs: number,
  ) {}

  /** The node as of the next poll; `first`: a step's first read, batched within FIRST_READ_MS instead. */
  next(uuid: string, signal: AbortSignal, first = false): Promise<IronicNode | undefined> {
    const batch = first ? this.firstReads : this.polls;
    return new Promise((resolve, reject) => {
      const done: Waiter = (n, e) => {
        signal.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve(n);
      };
      const onAbort = () => {
        const list = batch.waiters.get(uuid);
        if (list) batch.waiters.set(uuid, list.filter((f) => f !== done));
        reject(new StepFailedError('Timeout', `Ironic node ${uuid}: the step's deadline passed while waiting`, true));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      batch.waiters.set(uuid, [...(batch.waiters.get(uuid) ?? []), done]);
      batch.timer ??= setTimeout(() => void this.read(batch), first ? Math.min(FIRST_READ_MS, this.intervalMs) : this.intervalMs);
    });
  }

  /** One list request for the batch (paged), or a GET per node when only a few wait. */
  private async read(batch: ReadBatch): Promise<void> {
    const waiting = new Map(batch.waiters);
    batch.waiters.clear();
    batch.timer = undefined;
    if (waiting.size === 0) return;
    try {
      const listed = waiting.size > SMALL_BATCH;
      const seen = new Map<string, IronicNode>();
      // Pages are read until every waiting node is seen or none is left: a node the list lacks
      // did not exist when it was read (no GET to confirm it).
      let path: string | undefined = listed ? `/nodes?fields=${POLLED_FIELDS.join(',')}&limit=1000` : undefined;
      while (path) {
        const page: { nodes: IronicNode[]; next?: string } = await this.client.request('GET', path, { subject: `${waiting.size} waiting nodes` });
        for (const n of page.nodes) if (waiting.has(n.uuid)) seen.set(n.uuid, n);
        path = page.next ? page.next.replace(/^.*\/v1/, '') : undefined;
        if (seen.size === waiting.size) break;
      }
      for (const [uuid, fs] of waiting) {
        const n = listed ? seen.get(uuid) : await this.client.find<IronicNode>(`/nodes/${uuid}`, {});
        for (const f of fs) f(n);
      }
    } catch (e) {
      for (const fs of waiting.values()) for (const f of fs) f(undefined, e);
    }
  }
}

/** Equal as JSON values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, canon(x)])) : v;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

export class IronicDriver implements BareMetalDriver {
  readonly name = 'ironic';
  /** fake-hardware needs no BMC credentials; redfish and ipmi nodes carry them in driver_info. */
  readonly usesCredentials: boolean;
  readonly client: IronicClient;
  private readonly hardwareType: IronicHardwareType;
  private readonly pollMs: number;
  private readonly timeouts: IronicTimeouts;

  constructor(private readonly opts: IronicDriverOptions) {
    this.client = new IronicClient({
      url: opts.url,
      lockedRetries: opts.lockedRetries,
      lockedRetryIntervalMs: opts.lockedRetryIntervalMs,
      requestTimeoutMs: opts.requestTimeoutMs,
    });
    this.hardwareType = opts.hardwareType ?? 'fake-hardware';
    this.usesCredentials = this.hardwareType !== 'fake-hardware';
    this.pollMs = opts.pollIntervalMs ?? 10_000;
    this.timeouts = { ...IRONIC_DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.poller = new BatchPoller(this.client, this.pollMs);
  }

  private readonly poller: BatchPoller;

  enroll(node: NodeData, call: DriverCall): Promise<void> {
    return this.guarded(call, async () => {
      // Read first, not created first: nodes are often in Ironic before Stackyard enrols them
      // (Bifrost enrols Kayobe's servers.yml; bench/ironic.ts does the same), and a create that
      // answers 409 costs a conductor round trip where the read is the API's alone (tried in
      // session 16: 1.0 POST -> 409 per node, 648 ms each, and a slower registration burst).
      let n = await this.get(node, call);
      if (!n) n = await this.create(node, call);
      else if (n.provision_state === 'enroll') await this.patchBmc(node, n, call);
      if (n.provision_state === 'enroll' || n.provision_state === 'verifying') await this.manage(node, n, call);
      // Every other state is past enrolment: nothing to do.
    });
  }

  inspect(node: NodeData, call: DriverCall): Promise<HardwareFacts> {
    return this.guarded(call, async () => {
      let n = await this.mustGet(node, call);
      if (INSPECTING.includes(n.provision_state)) {
        n = await this.waitWhile(node, INSPECTING, this.timeouts.inspectMs, 'inspection', call);
      } else {
        if (n.provision_state === 'verifying') n = await this.manage(node, n, call);
        this.notBusy(node, n);
        if (!INSPECTABLE.includes(n.provision_state)) {
          throw new StepFailedError(
            'InvalidState',
            `${this.label(node)} is "${n.provision_state}"; inspection starts from ${INSPECTABLE.join(', ')}`,
            false,
          );
        }
        if (n.provision_state !== 'manageable' && n.provision_state !== 'inspect failed') n = await this.manage(node, n, call);
        await this.action(node, 'inspect', call, [...INSPECTING, 'manageable']);
        n = await this.waitWhile(node, INSPECTING, this.timeouts.inspectMs, 'inspection', call);
      }
      if (n.provision_state !== 'manageable') {
        throw new StepFailedError('InspectionFailed', `${this.label(node)}: inspection ended "${n.provision_state}": ${n.last_error ?? 'no error recorded'}`, false);
      }
      return this.facts(node, n, call);
    });
  }

  deploy(node: NodeData, request: DeployRequest, call: DriverCall): Promise<void> {
    return this.guarded(call, async () => {
      let n = await this.mustGet(node, call);
      if (n.provision_state === 'active') return;
      if (DEPLOYING.includes(n.provision_state)) {
        n = await this.waitWhile(node, DEPLOYING, this.timeouts.activeMs, 'deployment', call);
        return this.expectActive(node, n);
      }
      if (n.provision_state === 'enroll' || n.provision_state === 'verifying') n = await this.manage(node, n, call);
      if (CLEANING.includes(n.provision_state)) n = await this.waitWhile(node, CLEANING, this.timeouts.availableMs, 'cleaning', call);
      if (n.provision_state === 'manageable') {
        await this.action(node, 'provide', call, [...CLEANING, 'available']);
        n = await this.waitWhile(node, CLEANING, this.timeouts.availableMs, 'provide', call);
        if (n.provision_state !== 'available') {
          throw new StepFailedError('ProvideFailed', `${this.label(node)}: provide ended "${n.provision_state}": ${n.last_error ?? 'no error recorded'}`, false);
        }
      }
      this.notBusy(node, n);
      // Ironic deploys from available, and deploys again from deploy failed (event `deploy`).
      if (n.provision_state !== 'available' && n.provision_state !== 'deploy failed') {
        throw new StepFailedError('InvalidState', `${this.label(node)} is "${n.provision_state}"; a deploy starts from manageable, available or deploy failed`, false);
      }
      // Standalone Ironic (Bifrost's) takes an http(s)/file URL, or a Glance UUID when it has Glance;
      // anything else fails in the conductor with an HTTP 500 ("Scheme-less image href is not a
      // UUID"), which would read as a retryable outage: refuse it here, for good, saying what to set.
      if (!/^(https?|file):\/\//i.test(request.image) && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(request.image)) {
        throw new StepFailedError(
          'InvalidImage',
          `${this.label(node)}: Ironic needs the image as an http(s):// or file:// URL or a Glance UUID, got "${request.image}" (set PROVISION_IMAGE to a URL, or PROVISION_IMAGE_BASE_URL)`,
          false,
        );
      }
      await this.client.request('PATCH', `/nodes/${n.uuid}`, {
        body: [{ op: 'add', path: '/instance_info/image_source', value: request.image }],
        signal: call.signal,
        subject: this.label(node),
      });
      // A config drive as JSON (API 1.56): Ironic builds the ISO itself.
      const configdrive: Record<string, unknown> = { meta_data: { hostname: node.host.name, name: node.host.name } };
      if (request.network) configdrive['network_data'] = networkData(request.network);
      await this.action(node, 'active', call, [...DEPLOYING, 'active'], { configdrive });
      n = await this.waitWhile(node, DEPLOYING, this.timeouts.activeMs, 'deployment', call);
      this.expectActive(node, n);
    });
  }

  deprovision(node: NodeData, call: DriverCall): Promise<void> {
    return this.guarded(call, async () => {
      let n = await this.get(node, call);
      if (!n) return;
      // A deploy in progress cannot be undeployed: let it finish (or fail) first.
      if (n.provision_state === 'deploying') n = await this.waitWhile(node, ['deploying'], this.timeouts.activeMs, 'deployment', call);
      if (UNDEPLOYABLE.includes(n.provision_state)) {
        await this.action(node, 'deleted', call, [...UNDEPLOYING, 'available']);
        n = await this.waitWhile(node, ['active', ...UNDEPLOYING], this.timeouts.deletedMs, 'undeploy', call);
      } else if (BUSY.includes(n.provision_state)) {
        n = await this.waitWhile(node, BUSY, this.timeouts.deletedMs, `"${n.provision_state}"`, call);
      }
      if (UNDEPLOYABLE.includes(n.provision_state) || BUSY.includes(n.provision_state)) {
        throw new StepFailedError('UndeployFailed', `${this.label(node)}: undeploy ended "${n.provision_state}": ${n.last_error ?? 'no error recorded'}`, false);
      }
      // A node whose BMC never verified (enroll) cannot be powered through it.
      if (n.provision_state !== 'enroll') await this.setPower(node, n, 'off', call);
    });
  }

  power(node: NodeData, action: PowerAction, call: DriverCall): Promise<void> {
    return this.guarded(call, async () => {
      await this.setPower(node, await this.mustGet(node, call), action, call);
    });
  }

  powerState(node: NodeData, call: DriverCall): Promise<PowerState> {
    return this.guarded(call, async () => {
      const n = await this.get(node, call);
      return n?.power_state === 'power on' ? 'on' : n?.power_state === 'power off' ? 'off' : 'unknown';
    });
  }

  // --- steps ---------------------------------------------------------------------------------

  private label(node: NodeData): string {
    return `node "${node.host.name}" (${ironicUuid(node)})`;
  }

  /** The node now (a step's first read, through the poller: see BatchPoller), or undefined. */
  private get(node: NodeData, call: DriverCall): Promise<IronicNode | undefined> {
    return this.poller.next(ironicUuid(node), call.signal, true);
  }

  private async mustGet(node: NodeData, call: DriverCall): Promise<IronicNode> {
    const n = await this.get(node, call);
    if (!n) throw this.notEnrolled(node);
    return n;
  }

  private notEnrolled(node: NodeData): StepFailedError {
    return new StepFailedError('NodeNotEnrolled', `${this.label(node)} is not known to Ironic at ${this.client.endpoint}: enroll it first`, false);
  }

  private driverInfo(node: NodeData, creds: BmcCredentials | undefined): Record<string, unknown> {
    switch (this.hardwareType) {
      case 'redfish': {
        // Without a user name Ironic's verification fails with "'NoneType' object has no attribute 'encode'".
        if (!creds) {
          throw new StepFailedError('BmcCredentialsMissing', `${this.label(node)}: the redfish hardware type needs BMC credentials; the host has no credential reference`, false);
        }
        const t = redfishTarget(node.bmcAddress);
        return {
          redfish_address: t.address,
          ...(t.systemId ? { redfish_system_id: t.systemId } : {}),
          redfish_username: creds.username,
          redfish_password: creds.password,
          ...(this.opts.verifyCa !== undefined ? { redfish_verify_ca: this.opts.verifyCa } : {}),
        };
      }
      case 'ipmi': {
        const hostPort = node.bmcAddress.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
        const m = /^(.*?)(?::(\d+))?$/.exec(hostPort);
        return {
          ipmi_address: m?.[1] ?? hostPort,
          ...(m?.[2] ? { ipmi_port: Number(m[2]) } : {}),
          ...(creds ? { ipmi_username: creds.username, ipmi_password: creds.password } : {}),
        };
      }
      default:
        return {};
    }
  }

  private async create(node: NodeData, call: DriverCall): Promise<IronicNode> {
    const uuid = ironicUuid(node);
    try {
      return await this.client.request<IronicNode>('POST', '/nodes', {
        body: {
          uuid,
          name: node.host.name,
          driver: this.hardwareType,
          driver_info: this.driverInfo(node, call.credentials),
          extra: { stackyard_host_id: node.host.hostId, stackyard_site_id: node.host.siteId, bmc_address: node.bmcAddress },
        },
        signal: call.signal,
        subject: this.label(node),
      });
    } catch (e) {
      if (!(e instanceof IronicApiError) || e.status !== 409) throw e;
      // Created meanwhile by a concurrent delivery (same UUID): fine. Another node has the name: not.
      const again = await this.get(node, call);
      if (again) return again;
      const other = await this.client.find<IronicNode>(`/nodes/${encodeURIComponent(node.host.name)}`, { signal: call.signal, subject: this.label(node) });
      throw new StepFailedError(
        'NodeNameConflict',
        `${this.label(node)}: Ironic already has a node named "${node.host.name}"${other ? ` for another host (${other.uuid})` : ''}: ${e.fault}`,
        false,
      );
    }
  }

  /** A node still in enroll gets the current BMC address and credentials (they may have been fixed). */
  private async patchBmc(node: NodeData, n: IronicNode, call: DriverCall): Promise<void> {
    const info = this.driverInfo(node, call.credentials);
    // Nothing to change (Ironic masks secrets in what it returns, so info carrying one is always sent).
    if (n.driver === this.hardwareType && !JSON.stringify(info).includes('password') && sameJson(info, n.driver_info ?? {})) return;
    const ops: Record<string, unknown>[] = [{ op: 'replace', path: '/driver_info', value: info }];
    if (n.driver !== this.hardwareType) ops.unshift({ op: 'replace', path: '/driver', value: this.hardwareType });
    await this.client.request('PATCH', `/nodes/${n.uuid}`, { body: ops, signal: call.signal, subject: this.label(node) });
  }

  /** enroll/available -> manageable; a BMC that fails verification leaves the node in enroll. */
  private async manage(node: NodeData, n: IronicNode, call: DriverCall): Promise<IronicNode> {
    if (n.provision_state !== 'verifying') await this.action(node, 'manage', call, ['verifying', 'manageable']);
    const after = await this.waitWhile(node, ['verifying'], this.timeouts.manageableMs, 'BMC verification', call);
    if (after.provision_state === 'manageable') return after;
    if (after.provision_state === 'enroll') {
      throw new StepFailedError('BmcVerifyFailed', `${this.label(node)}: Ironic could not verify the BMC: ${after.last_error ?? 'no error recorded'}`, false);
    }
    throw new StepFailedError('EnrollFailed', `${this.label(node)}: manage ended "${after.provision_state}": ${after.last_error ?? 'no error recorded'}`, false);
  }

  /**
   * Asks for a provision state change. When Ironic refuses it because the node is no longer in the
   * state we read (a concurrent delivery of the same step got there first), and the node is now
   * in one of `raced`, that is fine: the caller goes on waiting from there.
   */
  private async action(node: NodeData, target: string, call: DriverCall, raced: readonly string[], extra: Record<string, unknown> = {}): Promise<void> {
    try {
      await this.client.request('PUT', `/nodes/${ironicUuid(node)}/states/provision`, {
        body: { target, ...extra },
        signal: call.signal,
        subject: this.label(node),
      });
    } catch (e) {
      if (!(e instanceof IronicApiError) || e.status !== 400 || !/while it is in state/.test(e.fault)) throw e;
      const now = await this.mustGet(node, call);
      if (!raced.includes(now.provision_state)) throw e;
    }
  }

  /**
   * Reads the node at every poll of the shared poller (every pollIntervalMs, one list request for
   * all waiting nodes), the first one included, until its provision state leaves `busy`.
   */
  private async waitWhile(node: NodeData, busy: readonly string[], timeoutMs: number, what: string, call: DriverCall): Promise<IronicNode> {
    const deadline = Date.now() + timeoutMs;
    // The first read too comes from the shared poll (one list request per interval for every
    // waiting node) rather than a GET per node right after its verb: Ironic's API is the
    // bottleneck at scale, and a verb's state change is rarely done within milliseconds.
    const first = await this.poller.next(ironicUuid(node), call.signal);
    if (!first) throw this.notEnrolled(node);
    let n = first;
    for (;;) {
      if (!busy.includes(n.provision_state)) return n;
      if (Date.now() >= deadline) {
        throw new StepFailedError('Timeout', `${this.label(node)}: ${what} still "${n.provision_state}" after ${Math.round(timeoutMs / 1000)} s`, true);
      }
      const polled = await this.poller.next(n.uuid, call.signal);
      if (!polled) throw new StepFailedError('NodeNotEnrolled', `${this.label(node)} disappeared from Ironic at ${this.client.endpoint} while waiting for ${what}`, false);
      n = polled;
    }
  }

  /** A node busy with another operation (undeploy, cleaning, rescue...): retry later. */
  private notBusy(node: NodeData, n: IronicNode): void {
    if (BUSY.includes(n.provision_state)) {
      throw new StepFailedError('NodeBusy', `${this.label(node)} is busy ("${n.provision_state}"); try again when it settles`, true);
    }
  }

  private expectActive(node: NodeData, n: IronicNode): void {
    if (n.provision_state !== 'active') {
      throw new StepFailedError('DeployFailed', `${this.label(node)}: deployment ended "${n.provision_state}": ${n.last_error ?? 'no error recorded'}`, false);
    }
  }

  private async setPower(node: NodeData, n: IronicNode, action: PowerAction, call: DriverCall): Promise<void> {
    const want = action === 'off' ? 'power off' : 'power on';
    if (action !== 'reboot' && n.power_state === want && !n.target_power_state) return;
    await this.client.request('PUT', `/nodes/${n.uuid}/states/power`, {
      body: { target: action === 'on' ? 'power on' : action === 'off' ? 'power off' : 'rebooting' },
      signal: call.signal,
      subject: this.label(node),
    });
    const deadline = Date.now() + this.timeouts.powerMs;
    for (;;) {
      const now = await this.mustGet(node, call);
      if (!now.target_power_state) {
        if (now.power_state === want) return;
        throw new StepFailedError('PowerFailed', `${this.label(node)}: ${want} failed, power is "${now.power_state ?? 'unknown'}": ${now.last_error ?? 'no error recorded'}`, true);
      }
      if (Date.now() >= deadline) {
        throw new StepFailedError('Timeout', `${this.label(node)}: ${want} not reached after ${Math.round(this.timeouts.powerMs / 1000)} s`, true);
      }
      await sleep(this.pollMs, call.signal, `${this.label(node)}: waiting for ${want}`);
    }
  }

  private async facts(node: NodeData, n: IronicNode, call: DriverCall): Promise<HardwareFacts> {
    if (await this.client.supports('1.81', call.signal)) {
      try {
        const inv = await this.client.request<{ inventory?: Record<string, unknown>; plugin_data?: Record<string, unknown> }>('GET', `/nodes/${n.uuid}/inventory`, {
          signal: call.signal,
          subject: this.label(node),
        });
        if (inv?.inventory && Object.keys(inv.inventory).length > 0) return factsFromInventory(inv.inventory, inv.plugin_data);
      } catch (e) {
        // 404: no inventory stored (fake or out-of-band inspection); 406: not on this Ironic.
        if (!(e instanceof IronicApiError) || (e.status !== 404 && e.status !== 406)) throw e;
      }
    }
    const ports = await this.client.request<{ ports: IronicPort[] }>('GET', `/nodes/${n.uuid}/ports?detail=true`, { signal: call.signal, subject: this.label(node) });
    return factsFromProperties(n.properties, ports.ports);
  }

  /** Runs a step; any error message that somehow quotes the BMC password has it masked. */
  private async guarded<T>(call: DriverCall, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const secret = call.credentials?.password;
      if (!secret || !(e instanceof Error) || !e.message.includes(secret)) throw e;
      const message = e.message.split(secret).join('***');
      if (e instanceof StepFailedError) throw new StepFailedError(e.reason, message, e.retryable);
      throw new StepFailedError('DriverError', message, true);
    }
  }
}
