import { StepFailedError } from '@stackyard/errors';
import type { Disk, HardwareFacts, Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { BareMetalDriver, ConfigDriveNetwork, DeployRequest, DriverCall, PowerAction, PowerState } from '../../application/ports';
import type { NodeData } from '../../domain/node';
import { RedfishClient, RedfishError, type Json } from './client';

export interface RedfishDriverOptions {
  /** Scheme for a bmcAddress without one (`host[:port]`): https (default), http for lab BMCs. */
  readonly scheme?: 'https' | 'http';
  /** true (default): system CAs; a path: that CA file; false: no verification (labs only). */
  readonly verifyTls?: boolean | string;
  readonly auth?: 'auto' | 'session' | 'basic';
  /** Per HTTP request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Between two reads of the system while waiting (default 5 s). */
  readonly pollIntervalMs?: number;
  /** Deploy, from the reset to OSRunning (default 600 s, Kayobe's wait_active_timeout). */
  readonly deployTimeoutMs?: number;
  /** Power on, off or reboot, to the reported state (default 120 s). */
  readonly powerTimeoutMs?: number;
  /** Prefix for image names that are not URLs (`deployment_image.qcow2` -> `<base>/deployment_image.qcow2`). */
  readonly imageBaseUrl?: string;
  /**
   * Network data for the first boot. Redfish has no config drive: `virtual-media` inserts it as a
   * `data:` URL (JSON) on the Floppy/USB virtual media next to the CD; `auto` (default) does so only
   * for the Stackyard lab BMC (service root Vendor "Stackyard"), which records it with the install;
   * `ignore` never does. Real BMCs fetch media by URL, so on them the network data has to be baked
   * into the image or served by the deployment (not yet).
   */
  readonly networkData?: 'auto' | 'virtual-media' | 'ignore';
}

interface Resolved {
  readonly scheme: 'https' | 'http';
  readonly verifyTls: boolean | string;
  readonly auth: 'auto' | 'session' | 'basic';
  readonly requestTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly deployTimeoutMs: number;
  readonly powerTimeoutMs: number;
  readonly imageBaseUrl: string | undefined;
  readonly networkData: 'auto' | 'virtual-media' | 'ignore';
}

interface MediaRef {
  readonly path: string;
  readonly body: Json;
}

const DEFAULT_V1 = '/redfish/v1/';
const RESET_ON = ['On', 'ForceOn'];
const RESET_OFF = ['ForceOff'];
const RESET_REBOOT = ['ForceRestart', 'PowerCycle', 'GracefulRestart'];

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const link = (v: unknown): string | undefined => str(obj(v)['@odata.id']);
const links = (v: unknown): string[] => (Array.isArray(v) ? v.map(link).filter((x): x is string => x !== undefined) : []);

function deadlineError(node: NodeData, what: string): StepFailedError {
  return new StepFailedError('Timeout', `${node.host.name}: the step's deadline passed while ${what}`, true);
}

/** Waits, or throws the retryable `Timeout` as soon as the call's signal aborts. */
function sleep(ms: number, signal: AbortSignal, onAbort: () => StepFailedError): Promise<void> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const t = setTimeout(done, ms);
    const abort = (): void => {
      clearTimeout(t);
      reject(onAbort());
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}

/** Redfish PowerState to the port's: transitions count as the state being reached (as Ironic maps them). */
function powerOf(sys: Json): PowerState {
  const p = str(sys['PowerState']);
  if (p === 'On' || p === 'PoweringOn') return 'on';
  if (p === 'Off' || p === 'PoweringOff') return 'off';
  return 'unknown';
}

function lastStateOf(sys: Json): string | undefined {
  return str(obj(sys['BootProgress'])['LastState']);
}

/** The lab BMC's record of the installed image (Oem.Stackyard.InstalledImage); undefined elsewhere. */
function installedImageOf(sys: Json): string | undefined {
  return str(obj(obj(sys['Oem'])['Stackyard'])['InstalledImage']);
}

function criticalMessage(sys: Json): string | undefined {
  const status = obj(sys['Status']);
  if (status['Health'] !== 'Critical') return undefined;
  const conditions = Array.isArray(status['Conditions']) ? status['Conditions'].map((c) => str(obj(c)['Message'])).filter(Boolean) : [];
  return conditions.length > 0 ? conditions.join(' ') : 'Status.Health is Critical';
}

/**
 * The `redfish` driver: drives a node's BMC over DMTF Redfish (sessions or Basic auth, HTTPS verified
 * by default). The node's system is the ComputerSystem whose HostName (or Id, or Name) is the host's
 * name, else the only system of the service. Deploy boots the image from virtual media (CD, once)
 * and waits for BootProgress.LastState OSRunning, like Ironic's redfish-virtual-media boot.
 */
export class RedfishDriver implements BareMetalDriver {
  readonly name = 'redfish';
  readonly usesCredentials = true;
  private readonly o: Resolved;
  /** System path by `<base url>|<host name>`: Redfish system ids are stable, so a BMC is searched once. */
  private readonly systemPaths = new Map<string, string>();

  constructor(opts: RedfishDriverOptions = {}) {
    this.o = {
      scheme: opts.scheme ?? 'https',
      verifyTls: opts.verifyTls ?? true,
      auth: opts.auth ?? 'auto',
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      pollIntervalMs: opts.pollIntervalMs ?? 5_000,
      deployTimeoutMs: opts.deployTimeoutMs ?? 600_000,
      powerTimeoutMs: opts.powerTimeoutMs ?? 120_000,
      imageBaseUrl: opts.imageBaseUrl?.replace(/\/+$/, ''),
      networkData: opts.networkData ?? 'auto',
    };
  }

  async enroll(node: NodeData, call: DriverCall): Promise<void> {
    // Like Ironic's manage: log in, find the system, read its power state.
    await this.withSystem(node, call, async (_c, path, sys) => {
      if (str(sys['PowerState']) === undefined) {
        throw new StepFailedError('BmcError', `${node.host.name}: the Redfish system ${path} reports no PowerState`, false);
      }
    });
  }

  async inspect(node: NodeData, call: DriverCall): Promise<HardwareFacts> {
    return this.withSystem(node, call, async (c, _path, sys) => {
      const cpu = obj(sys['ProcessorSummary']);
      let cpuModel = str(cpu['Model']) ?? '';
      if (!cpuModel && link(sys['Processors'])) {
        const first = (await this.members(c, link(sys['Processors'])!))[0];
        cpuModel = str(first?.['Model']) ?? '';
      }
      const gib = num(obj(sys['MemorySummary'])['TotalSystemMemoryGiB']) ?? 0;
      const [disks, nics] = await Promise.all([this.disks(c, sys), this.nics(c, sys, call)]);
      return {
        cpuCount: num(cpu['LogicalProcessorCount']) ?? num(cpu['Count']) ?? 0,
        cpuModel,
        memoryMib: Math.round(gib * 1024),
        disks,
        nics,
      };
    });
  }

  async deploy(node: NodeData, request: DeployRequest, call: DriverCall): Promise<void> {
    const image = this.imageUrl(request.image);
    await this.withSystem(node, call, async (c, path, system) => {
      let sys = system;
      // Idempotent: this image is installed and running (known on BMCs that record it, like the lab's).
      if (installedImageOf(sys) === image && powerOf(sys) === 'on' && lastStateOf(sys) === 'OSRunning' && !criticalMessage(sys)) return;

      const media = await this.virtualMedia(c, sys, node);
      const cd = media.cd;
      // A deploy of this image already running (a redelivered step after a crash): wait for it.
      const resumed =
        cd.body['Inserted'] === true && cd.body['Image'] === image && powerOf(sys) === 'on' && lastStateOf(sys) === 'OSBootStarted' && !criticalMessage(sys);
      if (!resumed) {
        await this.eject(c, cd);
        await c.post(this.action(cd, '#VirtualMedia.InsertMedia', 'InsertMedia'), { Image: image });
        if (media.data) {
          await this.eject(c, media.data);
          if (request.network && this.sendsNetworkData(c)) {
            await c.post(this.action(media.data, '#VirtualMedia.InsertMedia', 'InsertMedia'), { Image: networkDataUrl(request.network) });
          }
        }
        await c.patch(path, { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } });
        await this.reset(c, sys, path, powerOf(sys) === 'off' ? RESET_ON : RESET_REBOOT);
      }

      const deadline = Date.now() + this.o.deployTimeoutMs;
      // A BMC may still show the previous boot's OSRunning right after the reset: OSRunning counts once
      // another state has been seen since, or when the BMC records this very image as installed.
      let booting = resumed;
      for (;;) {
        sys = await c.get(path);
        const failed = criticalMessage(sys);
        if (failed) {
          throw new StepFailedError('DeployFailed', `${node.host.name}: deploying ${image} failed: ${failed} (BootProgress ${lastStateOf(sys) ?? 'unknown'})`, false);
        }
        const state = lastStateOf(sys);
        if (state === undefined) {
          // No BootProgress (ComputerSystem before v1_13): powered on is all the BMC can say.
          if (powerOf(sys) === 'on') break;
        } else if (state !== 'OSRunning') booting = true;
        else if (booting || installedImageOf(sys) === image) break;
        if (Date.now() >= deadline) {
          throw new StepFailedError(
            'DeployTimeout',
            `${node.host.name}: ${image} did not reach OSRunning within ${Math.round(this.o.deployTimeoutMs / 1000)} s (BootProgress ${state ?? 'unknown'}, power ${str(sys['PowerState']) ?? 'unknown'})`,
            false,
          );
        }
        await sleep(this.o.pollIntervalMs, call.signal, () => deadlineError(node, `waiting for ${image} to boot`));
      }
      await this.eject(c, cd);
      if (media.data) await this.eject(c, media.data);
    });
  }

  async deprovision(node: NodeData, call: DriverCall): Promise<void> {
    try {
      await this.withSystem(node, call, async (c, path, sys) => {
        const media = await this.virtualMedia(c, sys, node).catch((e: unknown) => {
          if (e instanceof StepFailedError && e.reason === 'NoVirtualMedia') return undefined;
          throw e;
        });
        if (media) {
          await this.eject(c, media.cd);
          if (media.data) await this.eject(c, media.data);
        }
        if (str(obj(sys['Boot'])['BootSourceOverrideEnabled']) !== 'Disabled' && obj(sys['Boot'])['BootSourceOverrideEnabled'] !== undefined) {
          await c.patch(path, { Boot: { BootSourceOverrideEnabled: 'Disabled' } });
        }
        if (str(sys['PowerState']) !== 'Off') {
          await this.reset(c, sys, path, RESET_OFF);
          await this.waitPower(c, path, 'off', node, call);
        }
      });
    } catch (e) {
      // A node whose BMC knows no such system has nothing to undeploy.
      if (e instanceof StepFailedError && e.reason === 'UnknownSystem') return;
      throw e;
    }
  }

  async power(node: NodeData, action: PowerAction, call: DriverCall): Promise<void> {
    await this.withSystem(node, call, async (c, path, sys) => {
      const now = str(sys['PowerState']);
      if (action === 'on' && now === 'On') return;
      if (action === 'off' && now === 'Off') return;
      const types = action === 'off' ? RESET_OFF : action === 'on' || now === 'Off' ? RESET_ON : RESET_REBOOT;
      await this.reset(c, sys, path, types);
      await this.waitPower(c, path, action === 'off' ? 'off' : 'on', node, call);
    });
  }

  async powerState(node: NodeData, call: DriverCall): Promise<PowerState> {
    return this.withSystem(node, call, async (_c, _path, sys) => powerOf(sys));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private baseUrl(node: NodeData): string {
    const a = node.bmcAddress.trim();
    if (a === '') throw new StepFailedError('BmcAddressInvalid', `${node.host.name}: the host has no BMC address`, false);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) return a.replace(/\/+$/, '');
    if (/[/\s@]/.test(a)) throw new StepFailedError('BmcAddressInvalid', `${node.host.name}: BMC address "${a}" is not host[:port]`, false);
    return `${this.o.scheme}://${a}`;
  }

  private imageUrl(image: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(image) || this.o.imageBaseUrl === undefined) return image;
    return `${this.o.imageBaseUrl}/${image.replace(/^\/+/, '')}`;
  }

  private sendsNetworkData(c: RedfishClient): boolean {
    if (this.o.networkData === 'ignore') return false;
    return this.o.networkData === 'virtual-media' || c.serviceRoot['Vendor'] === 'Stackyard';
  }

  /** Connects, logs in, finds the node's system, runs `fn`, and always logs out. */
  private async withSystem<T>(node: NodeData, call: DriverCall, fn: (c: RedfishClient, systemPath: string, system: Json) => Promise<T>): Promise<T> {
    if (call.signal.aborted) throw deadlineError(node, 'connecting to the BMC');
    const creds = call.credentials;
    if (!creds) {
      throw new StepFailedError('BmcCredentialsMissing', `${node.host.name}: no BMC credentials (the host has no credential reference)`, false);
    }
    const base = this.baseUrl(node);
    const c = await RedfishClient.connect({
      baseUrl: base,
      username: creds.username,
      password: creds.password,
      verifyTls: this.o.verifyTls,
      timeoutMs: this.o.requestTimeoutMs,
      auth: this.o.auth,
      signal: call.signal,
    });
    try {
      const key = `${base}|${node.host.name}`;
      let path = this.systemPaths.get(key);
      let system: Json | undefined;
      if (path !== undefined) {
        try {
          system = await c.get(path);
        } catch (e) {
          // A cached system that is gone (re-cabled BMC, renumbered systems): search again.
          if (!(e instanceof RedfishError && e.status === 404)) throw e;
          this.systemPaths.delete(key);
        }
      }
      if (path === undefined || system === undefined) {
        path = await this.findSystem(c, node, base);
        this.systemPaths.set(key, path);
        system = await c.get(path);
      }
      return await fn(c, path, system);
    } finally {
      await c.close();
    }
  }

  private async findSystem(c: RedfishClient, node: NodeData, base: string): Promise<string> {
    const collection = link(c.serviceRoot['Systems']) ?? `${DEFAULT_V1}Systems`;
    const systems = await this.members(c, collection);
    const name = node.host.name.toLowerCase();
    const short = (h: string): string => h.toLowerCase().split('.')[0]!;
    const match =
      systems.find((s) => str(s['HostName'])?.toLowerCase() === name) ??
      systems.find((s) => str(s['HostName']) !== undefined && short(str(s['HostName'])!) === short(name)) ??
      systems.find((s) => str(s['Id']) === node.host.name) ??
      systems.find((s) => str(s['Name']) === node.host.name) ??
      (systems.length === 1 ? systems[0] : undefined);
    const path = match ? str(match['@odata.id']) : undefined;
    if (!path) {
      throw new StepFailedError(
        'UnknownSystem',
        `${node.host.name}: none of the ${systems.length} Redfish systems at ${base} has HostName, Id or Name "${node.host.name}"`,
        false,
      );
    }
    return path;
  }

  /** The members of a collection, read with $expand when the service supports it. */
  private async members(c: RedfishClient, path: string): Promise<Json[]> {
    const expand = obj(obj(c.serviceRoot['ProtocolFeaturesSupported'])['ExpandQuery']);
    const canExpand = expand['NoLinks'] === true || expand['ExpandAll'] === true;
    const body = await c.get(canExpand ? `${path}${path.includes('?') ? '&' : '?'}$expand=.($levels=1)` : path);
    const members = Array.isArray(body['Members']) ? body['Members'].map(obj) : [];
    const out: Json[] = [];
    // Members the service did not expand are read, a few at a time.
    for (let i = 0; i < members.length; i += 8) {
      const chunk = members.slice(i, i + 8);
      out.push(...(await Promise.all(chunk.map(async (m) => (m['Id'] !== undefined || !link(m) ? m : c.get(link(m)!))))));
    }
    return out;
  }

  private async disks(c: RedfishClient, sys: Json): Promise<Disk[]> {
    const storage = link(sys['Storage']);
    if (storage) {
      const drives: Disk[] = [];
      for (const s of await this.members(c, storage)) {
        for (const d of await Promise.all(links(s['Drives']).map((p) => c.get(p)))) {
          drives.push({
            name: str(d['Id']) ?? str(d['Name']) ?? '',
            sizeGib: Math.round((num(d['CapacityBytes']) ?? 0) / 2 ** 30),
            rotational: d['MediaType'] === 'HDD',
          });
        }
      }
      if (drives.length > 0) return drives;
    }
    const simple = link(sys['SimpleStorage']);
    if (!simple) return [];
    const disks: Disk[] = [];
    for (const s of await this.members(c, simple)) {
      for (const d of Array.isArray(s['Devices']) ? s['Devices'].map(obj) : []) {
        // SimpleStorage does not say whether a device spins.
        disks.push({ name: str(d['Name']) ?? '', sizeGib: Math.round((num(d['CapacityBytes']) ?? 0) / 2 ** 30), rotational: false });
      }
    }
    return disks;
  }

  private async nics(c: RedfishClient, sys: Json, call: DriverCall): Promise<Nic[]> {
    const eth = link(sys['EthernetInterfaces']);
    if (!eth) return [];
    const [interfaces, lldp] = await Promise.all([this.members(c, eth), this.lldp(c, sys, call)]);
    return interfaces
      .filter((i) => str(i['MACAddress']))
      .map((i) => {
        const mac = str(i['MACAddress'])!.toLowerCase();
        const neighbour = lldp.get(mac);
        return {
          name: str(i['Id']) ?? str(i['Name']) ?? '',
          macAddress: mac,
          speedMbps: num(i['SpeedMbps']) ?? 0,
          lldpSwitch: neighbour?.switch ?? '',
          lldpPort: neighbour?.port ?? '',
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }

  /**
   * LLDP neighbours by MAC, from the standard Port resources of the chassis' network adapters
   * (Port.Ethernet.LLDPReceive, AssociatedMACAddresses). Best effort: a BMC without them gives none.
   */
  private async lldp(c: RedfishClient, sys: Json, call: DriverCall): Promise<Map<string, { switch: string; port: string }>> {
    const out = new Map<string, { switch: string; port: string }>();
    try {
      const chassisPath = links(obj(sys['Links'])['Chassis'])[0];
      if (!chassisPath) return out;
      const adaptersPath = link((await c.get(chassisPath))['NetworkAdapters']);
      if (!adaptersPath) return out;
      for (const adapter of await this.members(c, adaptersPath)) {
        const portsPath = link(adapter['Ports']);
        if (!portsPath) continue;
        for (const port of await this.members(c, portsPath)) {
          const ethernet = obj(port['Ethernet']);
          const lldp = obj(ethernet['LLDPReceive']);
          const macs = Array.isArray(ethernet['AssociatedMACAddresses']) ? ethernet['AssociatedMACAddresses'] : [];
          const sw = str(lldp['SystemName']) ?? str(lldp['ChassisId']);
          const p = str(lldp['PortId']);
          for (const m of macs) if (typeof m === 'string' && sw && p) out.set(m.toLowerCase(), { switch: sw, port: p });
        }
      }
    } catch (e) {
      if (call.signal.aborted || (e instanceof StepFailedError && e.reason !== 'BmcError')) throw e;
      // A BMC that rejects these optional resources: no LLDP, the rest of the inspection stands.
    }
    return out;
  }

  /** The CD (or DVD) virtual media of the system, and the Floppy/USB one if any. */
  private async virtualMedia(c: RedfishClient, sys: Json, node: NodeData): Promise<{ cd: MediaRef; data?: MediaRef }> {
    let collection = link(sys['VirtualMedia']);
    if (!collection) {
      const manager = links(obj(sys['Links'])['ManagedBy'])[0];
      if (manager) collection = link((await c.get(manager))['VirtualMedia']);
    }
    const all = collection ? await this.members(c, collection) : [];
    const types = (m: Json): string[] => (Array.isArray(m['MediaTypes']) ? m['MediaTypes'].filter((t): t is string => typeof t === 'string') : []);
    const cd = all.find((m) => types(m).some((t) => t === 'CD' || t === 'DVD'));
    if (!cd || !str(cd['@odata.id'])) {
      throw new StepFailedError('NoVirtualMedia', `${node.host.name}: the BMC offers no CD/DVD virtual media to boot the image from`, false);
    }
    const data = all.find((m) => m !== cd && types(m).some((t) => t === 'Floppy' || t === 'USBStick'));
    return {
      cd: { path: str(cd['@odata.id'])!, body: cd },
      ...(data && str(data['@odata.id']) ? { data: { path: str(data['@odata.id'])!, body: data } } : {}),
    };
  }

  private action(m: MediaRef, name: string, fallback: string): string {
    return str(obj(obj(m.body['Actions'])[name])['target']) ?? `${m.path}/Actions/VirtualMedia.${fallback}`;
  }

  private async eject(c: RedfishClient, m: MediaRef): Promise<void> {
    const fresh = await c.get(m.path);
    if (fresh['Inserted'] !== true && (fresh['Image'] === null || fresh['Image'] === undefined || fresh['Image'] === '')) return;
    await c.post(this.action(m, '#VirtualMedia.EjectMedia', 'EjectMedia'), {});
  }

  /** Resets with the first of `preferred` that the system allows. */
  private async reset(c: RedfishClient, sys: Json, path: string, preferred: readonly string[]): Promise<void> {
    const action = obj(obj(sys['Actions'])['#ComputerSystem.Reset']);
    const target = str(action['target']) ?? `${path}/Actions/ComputerSystem.Reset`;
    const allowed = Array.isArray(action['ResetType@Redfish.AllowableValues']) ? (action['ResetType@Redfish.AllowableValues'] as unknown[]) : undefined;
    const type = allowed ? preferred.find((t) => allowed.includes(t)) : preferred[0];
    if (!type) {
      throw new StepFailedError('BmcError', `the Redfish system ${path} allows none of the reset types ${preferred.join(', ')}`, false);
    }
    await c.post(target, { ResetType: type });
  }

  private async waitPower(c: RedfishClient, path: string, want: 'on' | 'off', node: NodeData, call: DriverCall): Promise<void> {
    const deadline = Date.now() + this.o.powerTimeoutMs;
    for (;;) {
      const state = str((await c.get(path))['PowerState']);
      if (state === (want === 'on' ? 'On' : 'Off')) return;
      if (Date.now() >= deadline) {
        throw new StepFailedError('BmcPowerTimeout', `${node.host.name}: power ${want} not reached within ${Math.round(this.o.powerTimeoutMs / 1000)} s (PowerState ${state ?? 'unknown'})`, true);
      }
      await sleep(Math.min(this.o.pollIntervalMs, 2_000), call.signal, () => deadlineError(node, `waiting for power ${want}`));
    }
  }
}

function networkDataUrl(network: ConfigDriveNetwork): string {
  return `data:application/json;base64,${Buffer.from(JSON.stringify(network)).toString('base64')}`;
}
