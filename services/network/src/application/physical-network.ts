import { isStackyardError, ValidationError } from '@stackyard/errors';
import { parse } from 'yaml';
import {
  derivePortVlans,
  deriveCabling,
  planPhysicalNetwork,
  renderDisplay,
  renderSwitchConfig,
  validateOptions,
  validateSwitchInventory,
  type PlannedInterface,
  type PortVlanMap,
  type SwitchType,
} from '../domain/switches';
import type { HostConfigRepository, NetworkRepository, SwitchExecutor } from './ports';

/** `physical network configure`'s request, as the RPC carries it. */
export interface ConfigurePhysicalNetworkInput {
  readonly siteId: string;
  /** The switch inventory (YAML or JSON): `switches: {<name>: {...}}`. */
  readonly switchesYaml: string;
  /** Empty: all switches. */
  readonly group: string;
  readonly display: boolean;
  readonly enableDiscovery: boolean;
  readonly disableDiscovery: boolean;
  readonly interfaceLimit?: string | undefined;
  readonly interfaceDescriptionLimit?: string | undefined;
}

export interface PortResult {
  readonly name: string;
  readonly description: string;
  readonly host: string;
  readonly nic: string;
  readonly nativeVlan: number;
  readonly taggedVlans: readonly number[];
  readonly networks: readonly string[];
}

export interface SwitchResult {
  readonly name: string;
  readonly type: SwitchType;
  readonly group: string;
  readonly config: string;
  readonly interfaces: readonly PortResult[];
  /** `display`: a dry run. */
  readonly outcome: 'display' | 'changed' | 'unchanged' | 'applied' | 'failed';
  readonly message: string;
}

export interface PhysicalNetworkResult {
  readonly switches: readonly SwitchResult[];
  readonly display: string;
  readonly notes: readonly string[];
  /** Empty for a dry run. */
  readonly executor: string;
}

/** The domain's option fields -> the RPC's, so that an error names what the caller sent. */
const OPTION_FIELDS: Readonly<Record<string, string>> = {
  group: 'group',
  interfaceLimit: 'interface_limit',
  interfaceDescriptionLimit: 'interface_description_limit',
  disableDiscovery: 'disable_discovery',
  enableDiscovery: 'enable_discovery',
};

function renamed(e: unknown, fields: Readonly<Record<string, string>>): unknown {
  if (!(e instanceof ValidationError)) return e;
  const to = fields[e.field];
  if (to === undefined) return e;
  return new ValidationError(to, e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message);
}

/**
 * Kayobe's `physical network configure` (reference/kayobe.md, physical-network playbook): the switch
 * inventory and the options are checked, each port's VLAN membership is derived from the site's hosts
 * (their networks and the LLDP neighbours inspection reported on their NICs), the configuration is
 * rendered per switch and, unless `display`, applied switch by switch through the executor. Every
 * input error is found before anything is applied; an executor failure fails that switch only.
 */
export class PhysicalNetworkService {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly configs: HostConfigRepository,
    private readonly executor: SwitchExecutor,
  ) {}

  async configure(input: ConfigurePhysicalNetworkInput): Promise<PhysicalNetworkResult> {
    if (!input.siteId) throw new ValidationError('site_id', 'required');
    if (!input.switchesYaml.trim()) throw new ValidationError('switches_yaml', 'required (the switch inventory: switches: {<name>: {switch_type, ...}})');
    let doc: unknown;
    try {
      doc = parse(input.switchesYaml, { prettyErrors: false, maxAliasCount: 100 });
    } catch (e) {
      throw new ValidationError('switches_yaml', `is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const inventory = validateSwitchInventory(doc);
    let options;
    try {
      options = validateOptions({
        group: input.group || undefined,
        display: input.display,
        enableDiscovery: input.enableDiscovery,
        disableDiscovery: input.disableDiscovery,
        interfaceLimit: input.interfaceLimit,
        interfaceDescriptionLimit: input.interfaceDescriptionLimit,
      });
    } catch (e) {
      throw renamed(e, OPTION_FIELDS);
    }

    const nets = await this.networks.list(input.siteId);
    const hosts = (await this.configs.listSite(input.siteId))
      .filter((c) => c.state !== 'released')
      .map((c) => ({ name: c.host.name, groups: c.host.groups, nics: c.nics ?? [] }));
    const cabling = deriveCabling(inventory, hosts, nets);
    const vlansBySwitch: Record<string, PortVlanMap> = {};
    for (const [sw, ports] of Object.entries(cabling.ports)) vlansBySwitch[sw] = derivePortVlans(ports, cabling.attachments);
    const plans = planPhysicalNetwork(inventory, options, vlansBySwitch);
    const display = renderDisplay(plans);

    const results: SwitchResult[] = [];
    for (const plan of plans) {
      const sw = plan.switch;
      const config = renderSwitchConfig(plan);
      const base = {
        name: sw.name,
        type: sw.switch_type,
        group: sw.group ?? '',
        config,
        interfaces: plan.interfaces.map((i) => portResult(i, cabling.cabled)),
      };
      if (options.display) {
        results.push({ ...base, outcome: 'display', message: '' });
        continue;
      }
      if (config === '') {
        results.push({ ...base, outcome: 'unchanged', message: 'nothing to apply' });
        continue;
      }
      try {
        const r = await this.executor.apply({ siteId: input.siteId, name: sw.name, type: sw.switch_type, address: sw.ansible_host ?? sw.name }, config);
        results.push({ ...base, outcome: r.outcome, message: r.output });
      } catch (e) {
        const reason = isStackyardError(e) ? `${e.reason}: ` : '';
        results.push({ ...base, outcome: 'failed', message: `${reason}${(e as Error).message}` });
      }
    }
    return { switches: results, display, notes: cabling.notes, executor: options.display ? '' : this.executor.name };
  }
}

function portResult(i: PlannedInterface, cabled: Readonly<Record<string, { host: string; nic: string }>>): PortResult {
  const v = i.vlans;
  const who = v === null ? undefined : cabled[v.host];
  return {
    name: i.name,
    description: i.description,
    host: who?.host ?? '',
    nic: who?.nic ?? '',
    nativeVlan: v?.native?.vlan ?? 0,
    taggedVlans: v?.tagged.map((t) => t.vlan) ?? [],
    networks: v === null ? [] : [...(v.native ? [v.native.network] : []), ...v.tagged.map((t) => t.network)],
  };
}
