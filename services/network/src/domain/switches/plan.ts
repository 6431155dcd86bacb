/**
 * What `physical network configure` applies to each switch: the interface config after the
 * discovery overlay and the limits, merged with the derived VLAN membership.
 */
import { ValidationError } from '@stackyard/errors';
import type { PhysicalNetworkOptions, PortVlanMap, PortVlans, SwitchDefinition, SwitchInterfaceConfig, SwitchInventory } from './types';
import { naturalCompare } from './natural';

export interface PlannedInterface {
  readonly name: string;
  readonly description: string;
  readonly config: readonly string[];
  readonly vlans: PortVlans | null;
}

export interface SwitchPlan {
  readonly switch: SwitchDefinition;
  /** Natural order by interface name. */
  readonly interfaces: readonly PlannedInterface[];
}

/** Config lines that set VLAN membership themselves, which would fight the derived membership. */
const VLAN_LINE = /^\s*(switchport\s+(mode|access|trunk)|native-vlan-id|unit\s+\d+\s+family\s+ethernet-switching\s+(vlan|interface-mode)|bridge\s+domain)\b/;

/** Ansible `combine`: keys present in the overlay replace the base's. */
export function effectiveInterfaceConfig(sw: SwitchDefinition, options: Pick<PhysicalNetworkOptions, 'enableDiscovery' | 'disableDiscovery'>): Record<string, SwitchInterfaceConfig> {
  const out: Record<string, SwitchInterfaceConfig> = { ...sw.switch_interface_config };
  const overlay = options.enableDiscovery ? sw.switch_interface_config_enable_discovery : options.disableDiscovery ? sw.switch_interface_config_disable_discovery : {};
  for (const [name, o] of Object.entries(overlay)) {
    const base = out[name] ?? { description: '', config: [] };
    out[name] = { description: o.description ?? base.description, config: o.config ?? base.config };
  }
  return out;
}

/** `--interface-limit` keeps interfaces by name, `--interface-description-limit` by description. */
export function applyLimits<T extends { readonly description: string }>(interfaces: Readonly<Record<string, T>>, options: Pick<PhysicalNetworkOptions, 'interfaceLimit' | 'interfaceDescriptionLimit'>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, cfg] of Object.entries(interfaces)) {
    if (options.interfaceLimit !== null && !options.interfaceLimit.includes(name)) continue;
    if (options.interfaceDescriptionLimit !== null && !options.interfaceDescriptionLimit.includes(cfg.description)) continue;
    out[name] = cfg;
  }
  return out;
}

export function selectSwitches(inventory: SwitchInventory, group: PhysicalNetworkOptions['group']): SwitchDefinition[] {
  return inventory.switches.filter((s) => group === 'switches' || s.group === group);
}

/**
 * @param vlansBySwitch switch name -> derived port membership (see derivePortVlans)
 */
export function planPhysicalNetwork(inventory: SwitchInventory, options: PhysicalNetworkOptions, vlansBySwitch: Readonly<Record<string, PortVlanMap>> = {}): SwitchPlan[] {
  for (const name of Object.keys(vlansBySwitch)) {
    if (!inventory.switches.some((s) => s.name === name)) throw new ValidationError(`vlans.${name}`, `unknown switch "${name}"`);
  }
  return selectSwitches(inventory, options.group).map((sw) => {
    const cfg = effectiveInterfaceConfig(sw, options);
    const vlans = vlansBySwitch[sw.name] ?? {};
    const merged: Record<string, PlannedInterface> = {};
    for (const [name, c] of Object.entries(cfg)) merged[name] = { name, description: c.description, config: c.config, vlans: null };
    for (const [port, v] of Object.entries(vlans)) {
      const f = `vlans.${sw.name}.${port}`;
      const clash = Object.keys(cfg).find((k) => k !== port && k.toLowerCase() === port.toLowerCase());
      if (clash !== undefined) throw new ValidationError(f, `conflicts with switch_interface_config interface "${clash}": names differ only in case`);
      const existing = merged[port];
      if (existing !== undefined) {
        const i = existing.config.findIndex((l) => VLAN_LINE.test(l));
        if (i >= 0) {
          throw new ValidationError(`switches.${sw.name}.switch_interface_config.${port}.config[${i}]`, `sets VLAN membership, which is derived from the cabled host "${v.host}"; remove the line or the cabling`);
        }
      }
      merged[port] = { name: port, description: existing?.description ?? '', config: existing?.config ?? [], vlans: v };
    }
    const limited = applyLimits(merged, options);
    return { switch: sw, interfaces: Object.keys(limited).sort(naturalCompare).map((k) => limited[k] as PlannedInterface) };
  });
}
