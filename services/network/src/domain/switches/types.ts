/**
 * Switch inventory for `physical network configure` (reference/kayobe.md §1, physical-network playbook):
 * each switch has a `switch_type`, global `switch_config` lines and per-interface
 * `switch_interface_config` ({iface: {description, config[]}}), plus the discovery overlays
 * `switch_interface_config_enable_discovery` / `_disable_discovery`.
 */

/** Switch types Stackyard renders. `nvue` is NVIDIA Cumulus Linux (NVUE), Kayobe's name for it. */
export const SUPPORTED_SWITCH_TYPES = ['arista', 'dellos10', 'junos', 'nvue'] as const;
export type SwitchType = (typeof SUPPORTED_SWITCH_TYPES)[number];

/** Kayobe's other switch types: recognised, but Stackyard has no renderer for them. */
export const KAYOBE_ONLY_SWITCH_TYPES = ['dellos6', 'dellos9', 'dell-powerconnect', 'mellanox', 'nclu', 'openvswitch'] as const;

/** Kayobe's switch inventory groups; `switches` is their parent. */
export const SWITCH_GROUPS = ['mgmt-switches', 'ctl-switches', 'hs-switches'] as const;
export type SwitchGroup = (typeof SWITCH_GROUPS)[number];

export interface SwitchInterfaceConfig {
  /** Empty string means no description line is rendered. */
  readonly description: string;
  readonly config: readonly string[];
}

/** Interface name -> config. */
export type SwitchInterfaceConfigMap = Readonly<Record<string, SwitchInterfaceConfig>>;

export interface SwitchDefinition {
  readonly name: string;
  readonly group: SwitchGroup | null;
  readonly switch_type: SwitchType;
  /** Kayobe's `ansible_host`: where the switch's management CLI is reached (the name when absent). */
  readonly ansible_host?: string;
  readonly switch_config: readonly string[];
  readonly switch_interface_config: SwitchInterfaceConfigMap;
  /** Overlaid with --enable-discovery. Keys present replace description/config (Ansible combine). */
  readonly switch_interface_config_enable_discovery: Readonly<Record<string, Partial<SwitchInterfaceConfig>>>;
  /** Overlaid with --disable-discovery. */
  readonly switch_interface_config_disable_discovery: Readonly<Record<string, Partial<SwitchInterfaceConfig>>>;
}

export interface SwitchInventory {
  /** Sorted by name. */
  readonly switches: readonly SwitchDefinition[];
}

/** The options of `physical network configure`. */
export interface PhysicalNetworkOptions {
  /** `--group`; `switches` (all) when absent. */
  readonly group: 'switches' | SwitchGroup;
  /** `--display`: render what would be applied, apply nothing. */
  readonly display: boolean;
  /** `--interface-limit`: interface names; null = no limit. */
  readonly interfaceLimit: readonly string[] | null;
  /** `--interface-description-limit`: interface descriptions; null = no limit. */
  readonly interfaceDescriptionLimit: readonly string[] | null;
  readonly enableDiscovery: boolean;
  readonly disableDiscovery: boolean;
}

/** One network on a host's NIC facing the switch. */
export interface HostNetworkAttachment {
  readonly network: string;
  readonly vlan: number;
  readonly mode: 'tagged' | 'native';
}

export interface VlanRef {
  readonly network: string;
  readonly vlan: number;
}

/** A switch port's VLAN membership. */
export interface PortVlans {
  readonly host: string;
  readonly native: VlanRef | null;
  /** Sorted by VLAN id. */
  readonly tagged: readonly VlanRef[];
}

/** Interface name -> membership. */
export type PortVlanMap = Readonly<Record<string, PortVlans>>;
