import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { PROFILES, labMac } from './lab-driver';

/**
 * The lab fleet's BMCs as one DMTF Redfish service: one endpoint hosting many ComputerSystems, each
 * with its own Manager (the BMC, with virtual media) and Chassis, the way sushy-tools' emulator
 * hosts many libvirt domains. Both our `redfish` driver and Ironic's `redfish` hardware type
 * (python sushy) drive it.
 *
 * The simulation: booting (Reset On, ForceRestart...) with a CD boot override and an inserted CD
 * image "installs" the image: BootProgress.LastState is OSBootStarted for `installMs`, then the
 * system records the image (Oem.Stackyard.InstalledImage) and boots it from disk (OSRunning). A
 * `Once` override is consumed by the boot that uses it. Booting from disk with an installed image
 * reaches OSRunning at once; without one it stops at SystemHardwareInitializationComplete. Power off
 * gives PowerState Off and LastState None. Network data given as a `data:` URL on the Floppy virtual
 * media is recorded with the install (Oem.Stackyard.NetworkData), standing in for a config drive.
 */

export type BootProgressState = 'None' | 'SystemHardwareInitializationComplete' | 'OSBootStarted' | 'OSRunning';
export type RedfishPowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';

/** Faults injected into one system (its System, Manager and Chassis resources). */
export interface SystemFaults {
  /** Requests for the system get no answer at all (the client times out). */
  readonly unresponsive?: boolean;
  /** Requests for the system answer 500 with a Redfish error body. */
  readonly error5xx?: boolean;
  /** Installs never finish: LastState stays OSBootStarted and Status.Health becomes Critical. */
  readonly installFails?: boolean;
  /** Added to every answer for the system. */
  readonly latencyMs?: number;
}

export interface LabSystemSpec {
  /** Redfish Id of the ComputerSystem (and of its Manager and Chassis). */
  readonly id: string;
  readonly hostName: string;
  /** A lab hardware profile (PROFILES); unknown names fall back to compute-std. */
  readonly profile: string;
  /** Seeds the MAC addresses like the lab driver does (default: id). */
  readonly hostId?: string;
  /** Names the LLDP neighbours (`<site>-tor-1`); default `lab`. */
  readonly siteId?: string;
  readonly powerState?: 'On' | 'Off';
  /** An image already on disk: the system then boots it (OSRunning) when powered on. */
  readonly installedImage?: string;
  readonly faults?: SystemFaults;
}

export interface LabRedfishOptions {
  /** 0 or absent: an ephemeral port. */
  readonly port?: number;
  readonly host?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly username: string;
  readonly password: string;
  readonly systems: readonly LabSystemSpec[];
  /** Faults by system id, merged over each spec's own. */
  readonly faults?: Readonly<Record<string, SystemFaults>>;
  /** How long an install from virtual media takes. */
  readonly installMs: number;
  /** How long PoweringOn/PoweringOff last (default 0: power changes at once). */
  readonly powerMs?: number;
  /** Offer the SessionService (default true); without it clients must use HTTP Basic. */
  readonly sessions?: boolean;
  /** Accept HTTP Basic (default true). */
  readonly basicAuth?: boolean;
  /** Idle session timeout, seconds (default 1800). */
  readonly sessionTimeoutS?: number;
}

export interface LabMediaView {
  readonly image: string | null;
  readonly inserted: boolean;
  readonly writeProtected: boolean;
}

/** A snapshot of one emulated system, for tests and demos. */
export interface LabSystemView {
  readonly id: string;
  readonly hostName: string;
  readonly powerState: RedfishPowerState;
  readonly lastState: BootProgressState;
  readonly boot: { readonly target: string; readonly enabled: string; readonly mode: string };
  readonly media: { readonly Cd: LabMediaView; readonly Floppy: LabMediaView };
  readonly installedImage: string | null;
  readonly networkData: unknown;
  readonly health: 'OK' | 'Critical';
  /** Completed installs. */
  readonly installs: number;
  /** Every ResetType accepted, in order. */
  readonly resets: readonly string[];
  readonly faults: SystemFaults;
}

export interface LabRedfishStats {
  readonly requests: number;
  readonly logins: number;
  readonly logouts: number;
  readonly activeSessions: number;
  readonly basicAuthRequests: number;
  readonly sessionAuthRequests: number;
}

export interface LabRedfish {
  /** `http(s)://host:port`, no trailing slash. */
  readonly url: string;
  /** `host:port`, the form a node's bmcAddress takes. */
  readonly address: string;
  stop(): Promise<void>;
  system(id: string): LabSystemView;
  systems(): LabSystemView[];
  addSystem(spec: LabSystemSpec): void;
  setFaults(id: string, faults: SystemFaults): void;
  /** Drops every session, as a BMC reboot or an idle timeout would. */
  expireSessions(): void;
  stats(): LabRedfishStats;
}

export const RESET_TYPES = ['On', 'ForceOn', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PowerCycle', 'Nmi'] as const;
export const BOOT_TARGETS = ['None', 'Pxe', 'Floppy', 'Cd', 'Usb', 'Hdd', 'BiosSetup', 'UefiHttp'] as const;
export const BOOT_ENABLED = ['Disabled', 'Once', 'Continuous'] as const;
export const BOOT_MODES = ['UEFI', 'Legacy'] as const;

const V1 = '/redfish/v1';
const BASE_REGISTRY = 'Base.1.16';
const MEDIA_IDS = ['Cd', 'Floppy'] as const;
type MediaId = (typeof MEDIA_IDS)[number];
type Json = Record<string, unknown>;

interface Media {
  image: string | null;
  inserted: boolean;
  writeProtected: boolean;
}

interface SystemState {
  readonly spec: LabSystemSpec;
  readonly hostId: string;
  readonly siteId: string;
  readonly uuid: string;
  power: RedfishPowerState;
  lastState: BootProgressState;
  lastStateTime: string;
  boot: { target: string; enabled: string; mode: string };
  media: Record<MediaId, Media>;
  installedImage: string | null;
  networkData: unknown;
  health: 'OK' | 'Critical';
  healthMessage: string | null;
  installs: number;
  resets: string[];
  faults: SystemFaults;
  timer: NodeJS.Timeout | undefined;
}

interface Session {
  readonly id: string;
  readonly token: string;
  readonly user: string;
  lastUsed: number;
}

class RedfishHttpError extends Error {
  constructor(
    readonly status: number,
    readonly messageId: string,
    message: string,
    readonly args: readonly string[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const ref = (id: string): Json => ({ '@odata.id': id });

/** Deterministic RFC 4122-shaped UUID from a name. */
function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Decodes a `data:[type][;base64],payload` URL; undefined for anything else. */
function decodeDataUrl(url: string): string | undefined {
  const m = /^data:([^,]*),(.*)$/s.exec(url);
  if (!m) return undefined;
  return m[1]!.endsWith(';base64') ? Buffer.from(m[2]!, 'base64').toString('utf8') : decodeURIComponent(m[2]!);
}

function profileOf(name: string): (typeof PROFILES)[string] {
  return PROFILES[name] ?? PROFILES['compute-std']!;
}

function lldpPortOf(hostId: string): string {
  return `Ethernet${1 + (createHash('sha256').update(hostId).digest().readUInt8(0) % 48)}`;
}

export async function startLabRedfish(opts: LabRedfishOptions): Promise<LabRedfish> {
  const host = opts.host ?? '127.0.0.1';
  const sessionsEnabled = opts.sessions ?? true;
  const basicEnabled = opts.basicAuth ?? true;
  const sessionTimeoutMs = (opts.sessionTimeoutS ?? 1800) * 1000;
  const powerMs = opts.powerMs ?? 0;
  const serviceUuid = nameUuid(`stackyard-lab-redfish/${opts.username}`);
  const systems = new Map<string, SystemState>();
  const sessions = new Map<string, Session>();
  let sessionSeq = 0;
  let stopped = false;
  const counters = { requests: 0, logins: 0, logouts: 0, basicAuthRequests: 0, sessionAuthRequests: 0 };

  function addSystem(spec: LabSystemSpec): void {
    if (!/^[A-Za-z0-9._-]+$/.test(spec.id)) throw new Error(`lab redfish: system id "${spec.id}" must be URL-safe`);
    if (systems.has(spec.id)) throw new Error(`lab redfish: system "${spec.id}" already exists`);
    const on = spec.powerState === 'On';
    const installed = spec.installedImage ?? null;
    systems.set(spec.id, {
      spec,
      hostId: spec.hostId ?? spec.id,
      siteId: spec.siteId ?? 'lab',
      uuid: nameUuid(`stackyard-lab-system/${spec.id}`),
      power: on ? 'On' : 'Off',
      lastState: on ? (installed ? 'OSRunning' : 'SystemHardwareInitializationComplete') : 'None',
      lastStateTime: new Date().toISOString(),
      boot: { target: 'None', enabled: 'Disabled', mode: 'UEFI' },
      media: { Cd: { image: null, inserted: false, writeProtected: true }, Floppy: { image: null, inserted: false, writeProtected: true } },
      installedImage: installed,
      networkData: null,
      health: 'OK',
      healthMessage: null,
      installs: 0,
      resets: [],
      faults: { ...spec.faults, ...opts.faults?.[spec.id] },
      timer: undefined,
    });
  }
  for (const s of opts.systems) addSystem(s);

  function getSystem(id: string): SystemState {
    const s = systems.get(id);
    if (!s) throw new RedfishHttpError(404, 'ResourceNotFound', `The requested resource of type ComputerSystem named '${id}' was not found.`, ['ComputerSystem', id]);
    return s;
  }

  // ---- simulation -------------------------------------------------------------------------------

  function setLastState(s: SystemState, state: BootProgressState): void {
    s.lastState = state;
    s.lastStateTime = new Date().toISOString();
  }

  function later(s: SystemState, ms: number, fn: () => void): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!stopped) fn();
    }, ms);
    s.timer.unref();
  }

  function cancel(s: SystemState): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
  }

  /** Firmware runs and picks a boot device: the override if enabled (consumed if Once), else disk. */
  function boot(s: SystemState): void {
    s.power = 'On';
    s.health = 'OK';
    s.healthMessage = null;
    const override = s.boot.enabled === 'Disabled' ? 'None' : s.boot.target;
    if (s.boot.enabled === 'Once') s.boot.enabled = 'Disabled';
    const cd = s.media.Cd;
    if (override === 'Cd' && cd.inserted && cd.image !== null) {
      install(s, cd.image);
      return;
    }
    // Every other device (or an empty CD drive) falls through the boot order to the disk.
    bootDisk(s);
  }

  function bootDisk(s: SystemState): void {
    cancel(s);
    setLastState(s, s.installedImage === null ? 'SystemHardwareInitializationComplete' : 'OSRunning');
  }

  function install(s: SystemState, image: string): void {
    setLastState(s, 'OSBootStarted');
    const floppy = s.media.Floppy;
    const network = floppy.inserted && floppy.image !== null ? decodeDataUrl(floppy.image) : undefined;
    later(s, opts.installMs, () => {
      if (s.faults.installFails) {
        s.health = 'Critical';
        s.healthMessage = `Installation of ${image} failed: the installer could not write the root disk (lab fault installFails).`;
        return;
      }
      s.installedImage = image;
      s.installs += 1;
      if (network !== undefined) {
        try {
          s.networkData = JSON.parse(network) as unknown;
        } catch {
          s.networkData = network;
        }
      }
      // The installer sets the next boot to the new disk and reboots (like UEFI BootNext).
      bootDisk(s);
    });
  }

  function powerOn(s: SystemState): void {
    if (powerMs > 0) {
      s.power = 'PoweringOn';
      later(s, powerMs, () => boot(s));
    } else {
      cancel(s);
      boot(s);
    }
  }

  function powerOff(s: SystemState): void {
    const off = (): void => {
      cancel(s);
      s.power = 'Off';
      setLastState(s, 'None');
    };
    if (powerMs > 0) {
      s.power = 'PoweringOff';
      later(s, powerMs, off);
    } else off();
  }

  function reset(s: SystemState, type: string): void {
    s.resets.push(type);
    const on = s.power === 'On' || s.power === 'PoweringOn';
    switch (type) {
      case 'On':
      case 'ForceOn':
        if (!on) powerOn(s);
        return;
      case 'ForceOff':
      case 'GracefulShutdown':
        if (s.power !== 'Off') powerOff(s);
        return;
      case 'ForceRestart':
      case 'GracefulRestart':
      case 'PowerCycle':
        cancel(s);
        powerOn(s);
        return;
      default:
        return; // Nmi: a running OS logs it; nothing else changes.
    }
  }

  // ---- representations --------------------------------------------------------------------------

  function collection(type: string, id: string, name: string, members: readonly string[]): Json {
    return {
      '@odata.type': `#${type}.${type}`,
      '@odata.id': id,
      Name: name,
      'Members@odata.count': members.length,
      Members: members.map(ref),
    };
  }

  function serviceRoot(): Json {
    return {
      '@odata.type': '#ServiceRoot.v1_16_0.ServiceRoot',
      '@odata.id': `${V1}/`,
      Id: 'RootService',
      Name: 'Stackyard lab Redfish service',
      RedfishVersion: '1.17.0',
      UUID: serviceUuid,
      Vendor: 'Stackyard',
      Product: 'Stackyard lab BMC emulator',
      ProtocolFeaturesSupported: { ExpandQuery: { ExpandAll: true, Levels: true, MaxLevels: 1, Links: false, NoLinks: true } },
      Systems: ref(`${V1}/Systems`),
      Managers: ref(`${V1}/Managers`),
      Chassis: ref(`${V1}/Chassis`),
      ...(sessionsEnabled ? { SessionService: ref(`${V1}/SessionService`), Links: { Sessions: ref(`${V1}/SessionService/Sessions`) } } : { Links: {} }),
    };
  }

  function systemBody(s: SystemState): Json {
    const p = profileOf(s.spec.profile);
    const base = `${V1}/Systems/${s.spec.id}`;
    return {
      '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
      '@odata.id': base,
      Id: s.spec.id,
      Name: s.spec.hostName,
      HostName: s.spec.hostName,
      UUID: s.uuid,
      SystemType: 'Physical',
      Manufacturer: 'Stackyard Lab',
      Model: s.spec.profile,
      SerialNumber: `LAB-${s.uuid.slice(0, 8).toUpperCase()}`,
      BiosVersion: 'lab-1.0',
      PowerState: s.power,
      Status: {
        State: 'Enabled',
        Health: s.health,
        ...(s.healthMessage ? { Conditions: [{ MessageId: 'StackyardLab.1.0.InstallFailed', Message: s.healthMessage, Severity: 'Critical' }] } : {}),
      },
      Boot: {
        BootSourceOverrideTarget: s.boot.target,
        BootSourceOverrideEnabled: s.boot.enabled,
        BootSourceOverrideMode: s.boot.mode,
        'BootSourceOverrideTarget@Redfish.AllowableValues': [...BOOT_TARGETS],
        'BootSourceOverrideEnabled@Redfish.AllowableValues': [...BOOT_ENABLED],
        'BootSourceOverrideMode@Redfish.AllowableValues': [...BOOT_MODES],
      },
      BootProgress: { LastState: s.lastState, LastStateTime: s.lastStateTime },
      ProcessorSummary: { Count: p.cpus, LogicalProcessorCount: p.cpus, Model: p.cpuModel, Status: { State: 'Enabled', Health: 'OK' } },
      MemorySummary: { TotalSystemMemoryGiB: p.memoryMib / 1024, Status: { State: 'Enabled', Health: 'OK' } },
      Processors: ref(`${base}/Processors`),
      EthernetInterfaces: ref(`${base}/EthernetInterfaces`),
      SimpleStorage: ref(`${base}/SimpleStorage`),
      Storage: ref(`${base}/Storage`),
      Links: { ManagedBy: [ref(`${V1}/Managers/${s.spec.id}`)], Chassis: [ref(`${V1}/Chassis/${s.spec.id}`)] },
      Actions: {
        '#ComputerSystem.Reset': { target: `${base}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': [...RESET_TYPES] },
      },
      Oem: { Stackyard: { Profile: s.spec.profile, InstalledImage: s.installedImage, NetworkData: s.networkData, Installs: s.installs } },
    };
  }

  function mediaBody(s: SystemState, id: MediaId): Json {
    const m = s.media[id];
    const base = `${V1}/Managers/${s.spec.id}/VirtualMedia/${id}`;
    return {
      '@odata.type': '#VirtualMedia.v1_6_0.VirtualMedia',
      '@odata.id': base,
      Id: id,
      Name: id === 'Cd' ? 'Virtual CD' : 'Virtual floppy',
      MediaTypes: id === 'Cd' ? ['CD', 'DVD'] : ['Floppy', 'USBStick'],
      Image: m.image,
      ImageName: m.image === null ? null : m.image.startsWith('data:') ? 'network-data' : (m.image.split('/').pop() ?? m.image),
      Inserted: m.inserted,
      WriteProtected: m.writeProtected,
      ConnectedVia: m.inserted ? 'URI' : 'NotConnected',
      UserName: null,
      Password: null,
      Actions: {
        '#VirtualMedia.InsertMedia': { target: `${base}/Actions/VirtualMedia.InsertMedia` },
        '#VirtualMedia.EjectMedia': { target: `${base}/Actions/VirtualMedia.EjectMedia` },
      },
    };
  }

  /** GET handlers under /redfish/v1/(Systems|Managers|Chassis)/<id>/..., by the rest of the path. */
  function systemScoped(kind: string, s: SystemState, rest: readonly string[]): Json | undefined {
    const id = s.spec.id;
    const p = profileOf(s.spec.profile);
    const sys = `${V1}/Systems/${id}`;
    const key = rest.join('/');
    if (kind === 'Systems') {
      if (key === '') return systemBody(s);
      if (key === 'EthernetInterfaces') {
        return collection('EthernetInterfaceCollection', `${sys}/EthernetInterfaces`, 'Ethernet interfaces', Array.from({ length: p.nics }, (_, i) => `${sys}/EthernetInterfaces/eno${i + 1}`));
      }
      const nic = /^EthernetInterfaces\/eno([0-9]+)$/.exec(key);
      if (nic && Number(nic[1]) >= 1 && Number(nic[1]) <= p.nics) {
        const i = Number(nic[1]) - 1;
        const mac = labMac(s.hostId, i);
        return {
          '@odata.type': '#EthernetInterface.v1_9_0.EthernetInterface',
          '@odata.id': `${sys}/EthernetInterfaces/eno${i + 1}`,
          Id: `eno${i + 1}`,
          Name: `eno${i + 1}`,
          MACAddress: mac,
          PermanentMACAddress: mac,
          SpeedMbps: 25_000,
          LinkStatus: s.power === 'Off' ? 'LinkDown' : 'LinkUp',
          InterfaceEnabled: true,
          Status: { State: 'Enabled', Health: 'OK' },
        };
      }
      if (key === 'Processors') {
        return collection('ProcessorCollection', `${sys}/Processors`, 'Processors', ['CPU0', 'CPU1'].map((c) => `${sys}/Processors/${c}`));
      }
      const cpu = /^Processors\/CPU([01])$/.exec(key);
      if (cpu) {
        return {
          '@odata.type': '#Processor.v1_18_0.Processor',
          '@odata.id': `${sys}/Processors/CPU${cpu[1]}`,
          Id: `CPU${cpu[1]}`,
          Name: `Processor ${cpu[1]}`,
          Socket: `CPU${cpu[1]}`,
          ProcessorType: 'CPU',
          ProcessorArchitecture: 'x86',
          InstructionSet: 'x86-64',
          Model: p.cpuModel,
          TotalCores: p.cpus / 4,
          TotalThreads: p.cpus / 2,
          Status: { State: 'Enabled', Health: 'OK' },
        };
      }
      if (key === 'SimpleStorage') return collection('SimpleStorageCollection', `${sys}/SimpleStorage`, 'Simple storage', [`${sys}/SimpleStorage/1`]);
      if (key === 'SimpleStorage/1') {
        return {
          '@odata.type': '#SimpleStorage.v1_3_1.SimpleStorage',
          '@odata.id': `${sys}/SimpleStorage/1`,
          Id: '1',
          Name: 'Simple storage controller',
          Devices: p.disks.map(([name, gib]) => ({ Name: name, CapacityBytes: gib * 2 ** 30, Status: { State: 'Enabled', Health: 'OK' } })),
          Status: { State: 'Enabled', Health: 'OK' },
        };
      }
      if (key === 'Storage') return collection('StorageCollection', `${sys}/Storage`, 'Storage', [`${sys}/Storage/1`]);
      if (key === 'Storage/1') {
        return {
          '@odata.type': '#Storage.v1_15_0.Storage',
          '@odata.id': `${sys}/Storage/1`,
          Id: '1',
          Name: 'Storage controller',
          Drives: p.disks.map(([name]) => ref(`${sys}/Storage/1/Drives/${name}`)),
          'Drives@odata.count': p.disks.length,
          Status: { State: 'Enabled', Health: 'OK' },
        };
      }
      const drive = /^Storage\/1\/Drives\/([^/]+)$/.exec(key);
      const d = drive ? p.disks.find(([name]) => name === drive[1]) : undefined;
      if (d) {
        const [name, gib, rotational] = d;
        return {
          '@odata.type': '#Drive.v1_17_0.Drive',
          '@odata.id': `${sys}/Storage/1/Drives/${name}`,
          Id: name,
          Name: name,
          CapacityBytes: gib * 2 ** 30,
          MediaType: rotational ? 'HDD' : 'SSD',
          Protocol: name.startsWith('nvme') ? 'NVMe' : 'SATA',
          Status: { State: 'Enabled', Health: 'OK' },
        };
      }
      return undefined;
    }
    if (kind === 'Managers') {
      const mgr = `${V1}/Managers/${id}`;
      if (key === '') {
        return {
          '@odata.type': '#Manager.v1_17_0.Manager',
          '@odata.id': mgr,
          Id: id,
          Name: `BMC of ${s.spec.hostName}`,
          ManagerType: 'BMC',
          UUID: nameUuid(`stackyard-lab-manager/${id}`),
          FirmwareVersion: 'lab-1.0',
          Status: { State: 'Enabled', Health: 'OK' },
          VirtualMedia: ref(`${mgr}/VirtualMedia`),
          Links: { ManagerForServers: [ref(sys)], ManagerForChassis: [ref(`${V1}/Chassis/${id}`)] },
        };
      }
      if (key === 'VirtualMedia') return collection('VirtualMediaCollection', `${mgr}/VirtualMedia`, 'Virtual media', MEDIA_IDS.map((m) => `${mgr}/VirtualMedia/${m}`));
      const media = /^VirtualMedia\/(Cd|Floppy)$/.exec(key);
      if (media) return mediaBody(s, media[1] as MediaId);
      return undefined;
    }
    // Chassis
    const ch = `${V1}/Chassis/${id}`;
    if (key === '') {
      return {
        '@odata.type': '#Chassis.v1_23_0.Chassis',
        '@odata.id': ch,
        Id: id,
        Name: `Chassis of ${s.spec.hostName}`,
        ChassisType: 'RackMount',
        PowerState: s.power,
        Status: { State: 'Enabled', Health: 'OK' },
        NetworkAdapters: ref(`${ch}/NetworkAdapters`),
        Links: { ComputerSystems: [ref(sys)], ManagedBy: [ref(`${V1}/Managers/${id}`)] },
      };
    }
    if (key === 'NetworkAdapters') return collection('NetworkAdapterCollection', `${ch}/NetworkAdapters`, 'Network adapters', [`${ch}/NetworkAdapters/NIC1`]);
    if (key === 'NetworkAdapters/NIC1') {
      return {
        '@odata.type': '#NetworkAdapter.v1_9_0.NetworkAdapter',
        '@odata.id': `${ch}/NetworkAdapters/NIC1`,
        Id: 'NIC1',
        Name: 'Lab network adapter',
        Ports: ref(`${ch}/NetworkAdapters/NIC1/Ports`),
        Status: { State: 'Enabled', Health: 'OK' },
      };
    }
    if (key === 'NetworkAdapters/NIC1/Ports') {
      return collection('PortCollection', `${ch}/NetworkAdapters/NIC1/Ports`, 'Ports', Array.from({ length: p.nics }, (_, i) => `${ch}/NetworkAdapters/NIC1/Ports/${i + 1}`));
    }
    const port = /^NetworkAdapters\/NIC1\/Ports\/([0-9]+)$/.exec(key);
    if (port && Number(port[1]) >= 1 && Number(port[1]) <= p.nics) {
      const i = Number(port[1]) - 1;
      const sw = `${s.siteId}-tor-${1 + (i % 2)}`;
      return {
        '@odata.type': '#Port.v1_7_0.Port',
        '@odata.id': `${ch}/NetworkAdapters/NIC1/Ports/${i + 1}`,
        Id: String(i + 1),
        Name: `Port ${i + 1}`,
        PortId: String(i + 1),
        LinkStatus: s.power === 'Off' ? 'LinkDown' : 'LinkUp',
        CurrentSpeedGbps: 25,
        Ethernet: {
          AssociatedMACAddresses: [labMac(s.hostId, i)],
          LLDPEnabled: true,
          LLDPReceive: { SystemName: sw, PortId: lldpPortOf(s.hostId), ChassisId: nameUuid(sw).slice(0, 17) },
        },
        Status: { State: 'Enabled', Health: 'OK' },
      };
    }
    return undefined;
  }

  // ---- HTTP plumbing ------------------------------------------------------------------------------

  function errorBody(status: number, messageId: string, message: string, args: readonly string[]): Json {
    return {
      error: {
        code: `${BASE_REGISTRY}.${status >= 500 ? 'InternalError' : 'GeneralError'}`,
        message: status >= 500 ? 'The request failed due to an internal service error.' : 'A general error has occurred. See ExtendedInfo for more information.',
        '@Message.ExtendedInfo': [
          {
            '@odata.type': '#Message.v1_1_2.Message',
            MessageId: `${BASE_REGISTRY}.${messageId}`,
            Message: message,
            MessageArgs: [...args],
            Severity: status >= 500 ? 'Critical' : 'Warning',
            Resolution: status === 401 ? 'Log in with valid credentials and resubmit the request.' : 'Correct the request and resubmit it.',
          },
        ],
      },
    };
  }

  function baseHeaders(): Record<string, string> {
    return { 'OData-Version': '4.0', 'Cache-Control': 'no-cache' };
  }

  function send(res: http.ServerResponse, status: number, body: Json | undefined, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return;
    const all = { ...baseHeaders(), ...headers };
    if (body === undefined) {
      res.writeHead(status, all);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { ...all, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  function sendError(res: http.ServerResponse, e: RedfishHttpError): void {
    const headers: Record<string, string> = e.status === 401 ? { ...e.headers, 'WWW-Authenticate': 'Basic realm="Stackyard lab BMC"' } : { ...e.headers };
    send(res, e.status, errorBody(e.status, e.messageId, e.message, e.args), headers);
  }

  async function readJson(req: http.IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      const b = c as Buffer;
      size += b.length;
      if (size > 1 << 20) throw new RedfishHttpError(413, 'PayloadTooLarge', 'The request payload is larger than 1 MiB.');
      chunks.push(b);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RedfishHttpError(400, 'MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RedfishHttpError(400, 'MalformedJSON', 'The request body must be a JSON object.');
    }
    return parsed as Json;
  }

  type Principal = { kind: 'basic' | 'session'; session?: Session };

  function authenticate(req: http.IncomingMessage): Principal | undefined {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && token !== '') {
      if (!sessionsEnabled) return undefined;
      const s = sessions.get(token);
      if (!s) return undefined;
      if (Date.now() - s.lastUsed > sessionTimeoutMs) {
        sessions.delete(token);
        return undefined;
      }
      s.lastUsed = Date.now();
      counters.sessionAuthRequests += 1;
      return { kind: 'session', session: s };
    }
    const auth = req.headers.authorization;
    if (basicEnabled && typeof auth === 'string' && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      // Both compared, always, so that a wrong user name and a wrong password take the same time.
      const userOk = safeEqual(decoded.slice(0, colon), opts.username);
      const passOk = safeEqual(decoded.slice(colon + 1), opts.password);
      if (!userOk || !passOk) return undefined;
      counters.basicAuthRequests += 1;
      return { kind: 'basic' };
    }
    return undefined;
  }

  function checkIfMatch(req: http.IncomingMessage, current: string): void {
    const h = req.headers['if-match'];
    if (h === undefined) return;
    const strip = (t: string): string => t.trim().replace(/^W\//, '');
    const ok = h.split(',').some((t) => t.trim() === '*' || strip(t) === strip(current));
    if (!ok) throw new RedfishHttpError(412, 'PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.');
  }

  function notFound(path: string): RedfishHttpError {
    return new RedfishHttpError(404, 'ResourceMissingAtURI', `The resource at the URI '${path}' was not found.`, [path]);
  }

  function methodNotAllowed(method: string, path: string, allow: string): RedfishHttpError {
    return new RedfishHttpError(405, 'OperationNotAllowed', `The ${method} method is not allowed on '${path}'.`, [method, path], { Allow: allow });
  }

  function expandIfAsked(body: Json, url: URL, resolve: (id: string) => Json | undefined): Json {
    const expand = url.searchParams.get('$expand');
    if (expand === null || !Array.isArray(body['Members'])) return body;
    return { ...body, Members: (body['Members'] as Json[]).map((m) => resolve(m['@odata.id'] as string) ?? m) };
  }

  /** GET of any resource by path (also used by $expand). */
  function getResource(path: string): Json | undefined {
    const parts = path.split('/').filter(Boolean); // redfish, v1, ...
    if (path === '/redfish') return { v1: `${V1}/` };
    if (parts[0] !== 'redfish' || parts[1] !== 'v1') return undefined;
    const rest = parts.slice(2);
    if (rest.length === 0) return serviceRoot();
    const [top, id, ...sub] = rest;
    if (top === 'odata' && id === undefined) {
      return {
        '@odata.context': `${V1}/$metadata`,
        value: ['Systems', 'Managers', 'Chassis', ...(sessionsEnabled ? ['SessionService'] : [])].map((n) => ({ name: n, kind: 'Singleton', url: `${V1}/${n}` })),
      };
    }
    if (top === 'SessionService' && sessionsEnabled) {
      if (id === undefined) {
        return {
          '@odata.type': '#SessionService.v1_1_9.SessionService',
          '@odata.id': `${V1}/SessionService`,
          Id: 'SessionService',
          Name: 'Session service',
          ServiceEnabled: true,
          SessionTimeout: Math.round(sessionTimeoutMs / 1000),
          Status: { State: 'Enabled', Health: 'OK' },
          Sessions: ref(`${V1}/SessionService/Sessions`),
        };
      }
      if (id === 'Sessions' && sub.length === 0) {
        return collection('SessionCollection', `${V1}/SessionService/Sessions`, 'Sessions', [...sessions.values()].map((s) => `${V1}/SessionService/Sessions/${s.id}`));
      }
      if (id === 'Sessions' && sub.length === 1) {
        const s = [...sessions.values()].find((x) => x.id === sub[0]);
        if (!s) return undefined;
        return { '@odata.type': '#Session.v1_7_0.Session', '@odata.id': `${V1}/SessionService/Sessions/${s.id}`, Id: s.id, Name: 'User session', UserName: s.user, Password: null };
      }
      return undefined;
    }
    if (top === 'Systems' || top === 'Managers' || top === 'Chassis') {
      if (id === undefined) {
        const type = top === 'Systems' ? 'ComputerSystemCollection' : top === 'Managers' ? 'ManagerCollection' : 'ChassisCollection';
        return collection(type, `${V1}/${top}`, `${top} collection`, [...systems.keys()].map((k) => `${V1}/${top}/${k}`));
      }
      const s = systems.get(id);
      return s ? systemScoped(top, s, sub) : undefined;
    }
    return undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    counters.requests += 1;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://lab');
    let path = url.pathname.replace(/\/+$/, '');
    if (path === '') path = '/';

    // Faults apply to a system's own resources: its System, Manager and Chassis.
    const scoped = /^\/redfish\/v1\/(?:Systems|Managers|Chassis)\/([^/]+)/.exec(path);
    const faulty = scoped ? systems.get(scoped[1]!) : undefined;
    if (faulty) {
      if (faulty.faults.unresponsive) return; // never answered: the socket stays open until the client gives up
      if (faulty.faults.latencyMs) await new Promise((r) => setTimeout(r, faulty.faults.latencyMs));
      if (faulty.faults.error5xx) throw new RedfishHttpError(500, 'InternalError', 'The request failed due to an internal service error (lab fault error5xx).');
    }

    // Anonymous: the version document, the service root, OData documents and logging in.
    const anonymous = path === '/redfish' || path === V1 || path === `${V1}/odata` || path === `${V1}/$metadata`;
    const sessionsPath = `${V1}/SessionService/Sessions`;
    if (method === 'POST' && path === sessionsPath && sessionsEnabled) {
      const body = await readJson(req);
      const user = body['UserName'];
      const pass = body['Password'];
      if (typeof user !== 'string' || typeof pass !== 'string') {
        throw new RedfishHttpError(400, 'PropertyMissing', 'The properties UserName and Password are required to create a session.', ['UserName']);
      }
      if (!safeEqual(user, opts.username) || !safeEqual(pass, opts.password)) {
        throw new RedfishHttpError(401, 'NoValidSession', 'There is no valid session established with the implementation.');
      }
      const id = String(++sessionSeq);
      const token = randomBytes(24).toString('hex');
      sessions.set(token, { id, token, user, lastUsed: Date.now() });
      counters.logins += 1;
      const location = `${sessionsPath}/${id}`;
      send(res, 201, { '@odata.type': '#Session.v1_7_0.Session', '@odata.id': location, Id: id, Name: 'User session', UserName: user, Password: null }, { 'X-Auth-Token': token, Location: location });
      return;
    }
    if (!anonymous) {
      const principal = authenticate(req);
      if (!principal) throw new RedfishHttpError(401, 'NoValidSession', 'There is no valid session established with the implementation.');
    }

    if (method === 'GET' || method === 'HEAD') {
      const body = getResource(path);
      if (!body && /\/Actions\/[A-Za-z]+\.[A-Za-z]+$/.test(path)) throw methodNotAllowed(method, path, 'POST');
      if (!body) throw notFound(path);
      const expanded = expandIfAsked(body, url, (id) => getResource(id));
      const text = JSON.stringify(expanded);
      const isSystem = /^\/redfish\/v1\/Systems\/[^/]+$/.test(path);
      const headers = { ETag: etagOf(text), Allow: isSystem ? 'GET, HEAD, PATCH' : path === sessionsPath ? 'GET, HEAD, POST' : 'GET, HEAD' };
      if (method === 'HEAD') send(res, 200, undefined, headers);
      else send(res, 200, expanded, headers);
      return;
    }

    const session = /^\/redfish\/v1\/SessionService\/Sessions\/([^/]+)$/.exec(path);
    if (session && sessionsEnabled) {
      if (method !== 'DELETE') throw methodNotAllowed(method, path, 'GET, HEAD, DELETE');
      const s = [...sessions.values()].find((x) => x.id === session[1]);
      if (!s) throw notFound(path);
      sessions.delete(s.token);
      counters.logouts += 1;
      send(res, 204, undefined);
      return;
    }

    const sys = /^\/redfish\/v1\/Systems\/([^/]+)$/.exec(path);
    if (sys) {
      if (method !== 'PATCH') throw methodNotAllowed(method, path, 'GET, HEAD, PATCH');
      const s = getSystem(sys[1]!);
      checkIfMatch(req, etagOf(JSON.stringify(systemBody(s))));
      patchSystem(s, await readJson(req));
      send(res, 204, undefined);
      return;
    }

    const resetPath = /^\/redfish\/v1\/Systems\/([^/]+)\/Actions\/ComputerSystem\.Reset$/.exec(path);
    if (resetPath) {
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      const s = getSystem(resetPath[1]!);
      const body = await readJson(req);
      const type = body['ResetType'];
      if (type === undefined) throw new RedfishHttpError(400, 'ActionParameterMissing', "The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.", ['ComputerSystem.Reset', 'ResetType']);
      if (typeof type !== 'string' || !(RESET_TYPES as readonly string[]).includes(type)) {
        throw new RedfishHttpError(400, 'ActionParameterValueNotInList', `The value '${String(type)}' for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values.`, [String(type), 'ResetType', 'ComputerSystem.Reset']);
      }
      reset(s, type);
      send(res, 204, undefined);
      return;
    }

    const mediaAction = /^\/redfish\/v1\/Managers\/([^/]+)\/VirtualMedia\/(Cd|Floppy)\/Actions\/VirtualMedia\.(InsertMedia|EjectMedia)$/.exec(path);
    if (mediaAction) {
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      const s = getSystem(mediaAction[1]!);
      const media = s.media[mediaAction[2] as MediaId];
      const body = await readJson(req);
      if (mediaAction[3] === 'EjectMedia') {
        media.image = null;
        media.inserted = false;
        send(res, 204, undefined);
        return;
      }
      const image = body['Image'];
      if (image === undefined) throw new RedfishHttpError(400, 'ActionParameterMissing', 'The action VirtualMedia.InsertMedia requires the parameter Image to be present in the request body.', ['VirtualMedia.InsertMedia', 'Image']);
      if (typeof image !== 'string' || image.trim() === '') {
        throw new RedfishHttpError(400, 'ActionParameterValueTypeError', 'The value for the parameter Image in the action VirtualMedia.InsertMedia is of a different type than the parameter can accept.', [JSON.stringify(image), 'Image', 'VirtualMedia.InsertMedia']);
      }
      for (const flag of ['Inserted', 'WriteProtected'] as const) {
        if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
          throw new RedfishHttpError(400, 'ActionParameterValueTypeError', `The value for the parameter ${flag} in the action VirtualMedia.InsertMedia is of a different type than the parameter can accept.`, [JSON.stringify(body[flag]), flag, 'VirtualMedia.InsertMedia']);
        }
      }
      if (media.inserted) throw new RedfishHttpError(409, 'ResourceInUse', `The virtual media ${mediaAction[2]} already has an image inserted; eject it first.`);
      media.image = image;
      media.inserted = body['Inserted'] !== false;
      media.writeProtected = body['WriteProtected'] !== false;
      send(res, 204, undefined);
      return;
    }

    if (getResource(path) === undefined) throw notFound(path);
    throw methodNotAllowed(method, path, 'GET, HEAD');
  }

  function patchSystem(s: SystemState, body: Json): void {
    const unknown = Object.keys(body).filter((k) => k !== 'Boot');
    if (unknown.length > 0) {
      const k = unknown[0]!;
      if (['Id', 'Name', 'UUID', 'PowerState', 'HostName', 'BootProgress', 'Status'].includes(k)) {
        throw new RedfishHttpError(400, 'PropertyNotWritable', `The property ${k} is a read-only property and cannot be assigned a value.`, [k]);
      }
      throw new RedfishHttpError(400, 'PropertyUnknown', `The property ${k} is not in the list of valid properties for the resource.`, [k]);
    }
    const boot = body['Boot'];
    if (boot === undefined) return;
    if (typeof boot !== 'object' || boot === null || Array.isArray(boot)) {
      throw new RedfishHttpError(400, 'PropertyValueTypeError', `The value '${JSON.stringify(boot)}' for the property Boot is of a different type than the property can accept.`, [JSON.stringify(boot), 'Boot']);
    }
    const b = boot as Json;
    const fields: [string, readonly string[], 'target' | 'enabled' | 'mode'][] = [
      ['BootSourceOverrideTarget', BOOT_TARGETS, 'target'],
      ['BootSourceOverrideEnabled', BOOT_ENABLED, 'enabled'],
      ['BootSourceOverrideMode', BOOT_MODES, 'mode'],
    ];
    for (const k of Object.keys(b)) {
      if (!fields.some(([name]) => name === k)) throw new RedfishHttpError(400, 'PropertyUnknown', `The property Boot/${k} is not in the list of valid properties for the resource.`, [`Boot/${k}`]);
    }
    // Validate everything before changing anything: a rejected PATCH changes nothing.
    for (const [name, allowed] of fields) {
      const v = b[name];
      if (v !== undefined && (typeof v !== 'string' || !allowed.includes(v))) {
        throw new RedfishHttpError(400, 'PropertyValueNotInList', `The value '${String(v)}' for the property Boot/${name} is not in the list of acceptable values.`, [String(v), `Boot/${name}`]);
      }
    }
    for (const [name, , key] of fields) {
      const v = b[name];
      if (typeof v === 'string') s.boot[key] = v;
    }
    // Setting a target without saying how long enables it once, as most BMCs do.
    if (typeof b['BootSourceOverrideTarget'] === 'string' && b['BootSourceOverrideEnabled'] === undefined && s.boot.enabled === 'Disabled' && s.boot.target !== 'None') {
      s.boot.enabled = 'Once';
    }
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof RedfishHttpError) {
        sendError(res, e);
      } else {
        sendError(res, new RedfishHttpError(500, 'InternalError', e instanceof Error ? e.message : String(e)));
      }
    });
  };

  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const address = `${hostPart}:${port}`;

  function view(s: SystemState): LabSystemView {
    const m = (x: Media): LabMediaView => ({ image: x.image, inserted: x.inserted, writeProtected: x.writeProtected });
    return {
      id: s.spec.id,
      hostName: s.spec.hostName,
      powerState: s.power,
      lastState: s.lastState,
      boot: { ...s.boot },
      media: { Cd: m(s.media.Cd), Floppy: m(s.media.Floppy) },
      installedImage: s.installedImage,
      networkData: s.networkData,
      health: s.health,
      installs: s.installs,
      resets: [...s.resets],
      faults: { ...s.faults },
    };
  }

  return {
    url: `${opts.tls ? 'https' : 'http'}://${address}`,
    address,
    async stop() {
      stopped = true;
      for (const s of systems.values()) cancel(s);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    system(id) {
      return view(getSystem(id));
    },
    systems() {
      return [...systems.values()].map(view);
    },
    addSystem,
    setFaults(id, faults) {
      getSystem(id).faults = { ...faults };
    },
    expireSessions() {
      sessions.clear();
    },
    stats() {
      return { ...counters, activeSessions: sessions.size };
    },
  };
}
