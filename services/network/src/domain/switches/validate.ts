/**
 * Parsing and validation of the switch inventory and of `physical network configure` options.
 * Every failure is a ValidationError naming the offending field (dotted path).
 */
import { ValidationError } from '@stackyard/errors';
import {
  KAYOBE_ONLY_SWITCH_TYPES,
  SUPPORTED_SWITCH_TYPES,
  SWITCH_GROUPS,
  type PhysicalNetworkOptions,
  type SwitchDefinition,
  type SwitchGroup,
  type SwitchInterfaceConfig,
  type SwitchInventory,
  type SwitchType,
} from './types';
import { naturalCompare } from './natural';

/** Kayobe's message (physical-network playbook), completed with the types Stackyard accepts. */
export const UNKNOWN_SWITCH_TYPE_MESSAGE = `The switch type is not defined or is unrecognised. Valid switch types are: ${SUPPORTED_SWITCH_TYPES.join(', ')}.`;
/** Kayobe's message, verbatim. */
export const LIMITS_EXCLUSIVE_MESSAGE = 'The interface name and interface description limits are mutually exclusive.';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const SWITCH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A host name, IPv4 or IPv6 address; never an ssh option (no leading `-`). */
const MGMT_HOST = /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/;
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9:./_-]*$/;

function configLines(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError(field, 'must be a list of configuration lines');
  return v.map((line, i) => {
    if (typeof line !== 'string') throw new ValidationError(`${field}[${i}]`, 'must be a string');
    if (CONTROL.test(line)) throw new ValidationError(`${field}[${i}]`, 'must be a single line without control characters');
    if (line.trim() === '') throw new ValidationError(`${field}[${i}]`, 'must not be blank');
    return line;
  });
}

function description(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ValidationError(field, 'must be a string');
  if (CONTROL.test(v) || v.includes('"') || v.includes('\\')) throw new ValidationError(field, 'must be a single line without control characters, double quotes or backslashes');
  return v;
}

function interfaceMap(v: unknown, field: string, partial: boolean): Record<string, Partial<SwitchInterfaceConfig>> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new ValidationError(field, 'must map interface names to {description, config}');
  const out: Record<string, Partial<SwitchInterfaceConfig>> = {};
  const seen = new Map<string, string>();
  for (const name of Object.keys(v).sort(naturalCompare)) {
    const f = `${field}.${name}`;
    if (!INTERFACE_NAME.test(name)) throw new ValidationError(f, 'is not a valid interface name');
    const key = name.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) throw new ValidationError(f, `conflicts with interface "${other}": names differ only in case`);
    seen.set(key, name);
    const item = v[name];
    if (!isRecord(item)) throw new ValidationError(f, 'must be an object with description and config');
    for (const k of Object.keys(item)) if (k !== 'description' && k !== 'config') throw new ValidationError(`${f}.${k}`, 'is not a known key (expected description, config)');
    const entry: { description?: string; config?: string[] } = {};
    if (!partial || item['description'] !== undefined) entry.description = description(item['description'], `${f}.description`);
    if (!partial || item['config'] !== undefined) entry.config = configLines(item['config'], `${f}.config`);
    out[name] = entry;
  }
  return out;
}

export function parseSwitchType(v: unknown, field: string): SwitchType {
  if (typeof v === 'string' && (SUPPORTED_SWITCH_TYPES as readonly string[]).includes(v)) return v as SwitchType;
  if (typeof v === 'string' && (KAYOBE_ONLY_SWITCH_TYPES as readonly string[]).includes(v)) {
    throw new ValidationError(field, `Switch type "${v}" is supported by Kayobe but not by Stackyard. Valid switch types are: ${SUPPORTED_SWITCH_TYPES.join(', ')}.`);
  }
  throw new ValidationError(field, UNKNOWN_SWITCH_TYPE_MESSAGE);
}

const KNOWN_SWITCH_KEYS = new Set(['group', 'ansible_host', 'switch_type', 'switch_config', 'switch_interface_config', 'switch_interface_config_enable_discovery', 'switch_interface_config_disable_discovery']);

/**
 * Parses `{switches: {<name>: {group?, ansible_host?, switch_type, switch_config?, switch_interface_config?,
 * switch_interface_config_enable_discovery?, switch_interface_config_disable_discovery?}}}`.
 * Switches and interfaces come out in natural name order.
 */
export function validateSwitchInventory(input: unknown): SwitchInventory {
  if (!isRecord(input)) throw new ValidationError('switches', 'must be an object');
  const raw = input['switches'];
  if (!isRecord(raw)) throw new ValidationError('switches', 'must map switch names to switch definitions');
  const switches: SwitchDefinition[] = [];
  for (const name of Object.keys(raw).sort(naturalCompare)) {
    const f = `switches.${name}`;
    if (!SWITCH_NAME.test(name)) throw new ValidationError(f, 'is not a valid switch name');
    const s = raw[name];
    if (!isRecord(s)) throw new ValidationError(f, 'must be an object');
    for (const k of Object.keys(s)) if (!KNOWN_SWITCH_KEYS.has(k)) throw new ValidationError(`${f}.${k}`, 'is not a known switch variable');
    const g = s['group'];
    let group: SwitchGroup | null = null;
    if (g !== undefined && g !== null) {
      if (typeof g !== 'string' || !(SWITCH_GROUPS as readonly string[]).includes(g)) throw new ValidationError(`${f}.group`, `must be one of ${SWITCH_GROUPS.join(', ')}`);
      group = g as SwitchGroup;
    }
    const switch_type = parseSwitchType(s['switch_type'], `${f}.switch_type`);
    const host = s['ansible_host'];
    if (host !== undefined && host !== null && (typeof host !== 'string' || !MGMT_HOST.test(host))) {
      throw new ValidationError(`${f}.ansible_host`, 'must be a host name or an IP address');
    }
    const switch_config = configLines(s['switch_config'], `${f}.switch_config`);
    if (switch_type === 'junos') {
      switch_config.forEach((line, i) => {
        if (!/^(set|delete|deactivate|activate) /.test(line)) throw new ValidationError(`${f}.switch_config[${i}]`, 'Junos configuration must be in set format (set/delete/activate/deactivate ...)');
      });
    }
    if (switch_type === 'nvue') {
      switch_config.forEach((line, i) => {
        if (!/^(set|unset) /.test(line)) throw new ValidationError(`${f}.switch_config[${i}]`, 'NVUE configuration must be an nv command without "nv " (set ... or unset ...)');
      });
    }
    const full = interfaceMap(s['switch_interface_config'], `${f}.switch_interface_config`, false) as Record<string, SwitchInterfaceConfig>;
    const enable = interfaceMap(s['switch_interface_config_enable_discovery'], `${f}.switch_interface_config_enable_discovery`, true);
    const disable = interfaceMap(s['switch_interface_config_disable_discovery'], `${f}.switch_interface_config_disable_discovery`, true);
    for (const [label, overlay] of [['switch_interface_config_enable_discovery', enable], ['switch_interface_config_disable_discovery', disable]] as const) {
      for (const iface of Object.keys(overlay)) {
        const clash = Object.keys(full).find((k) => k !== iface && k.toLowerCase() === iface.toLowerCase());
        if (clash !== undefined) throw new ValidationError(`${f}.${label}.${iface}`, `conflicts with switch_interface_config interface "${clash}": names differ only in case`);
      }
    }
    switches.push({
      name,
      group,
      switch_type,
      ...(typeof host === 'string' ? { ansible_host: host } : {}),
      switch_config,
      switch_interface_config: full,
      switch_interface_config_enable_discovery: enable,
      switch_interface_config_disable_discovery: disable,
    });
  }
  return { switches };
}

/** Splits a comma-separated CLI limit; null when absent. Items are trimmed; empty items are refused. */
export function parseLimit(v: string | undefined | null, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  const items = v.split(',').map((s) => s.trim());
  items.forEach((s, i) => {
    if (s === '') throw new ValidationError(field, `item ${i + 1} is empty`);
  });
  return items;
}

export interface RawPhysicalNetworkOptions {
  readonly group?: string;
  readonly display?: boolean;
  /** `--interface-limit`, comma-separated. */
  readonly interfaceLimit?: string;
  /** `--interface-description-limit`, comma-separated. */
  readonly interfaceDescriptionLimit?: string;
  readonly enableDiscovery?: boolean;
  readonly disableDiscovery?: boolean;
}

export function validateOptions(raw: RawPhysicalNetworkOptions): PhysicalNetworkOptions {
  const group = raw.group ?? 'switches';
  if (group !== 'switches' && !(SWITCH_GROUPS as readonly string[]).includes(group)) {
    throw new ValidationError('group', `must be one of switches, ${SWITCH_GROUPS.join(', ')}`);
  }
  const interfaceLimit = parseLimit(raw.interfaceLimit, 'interfaceLimit');
  const interfaceDescriptionLimit = parseLimit(raw.interfaceDescriptionLimit, 'interfaceDescriptionLimit');
  if (interfaceLimit !== null && interfaceDescriptionLimit !== null) throw new ValidationError('interfaceDescriptionLimit', LIMITS_EXCLUSIVE_MESSAGE);
  const enableDiscovery = raw.enableDiscovery ?? false;
  const disableDiscovery = raw.disableDiscovery ?? false;
  if (enableDiscovery && disableDiscovery) throw new ValidationError('disableDiscovery', 'argument --disable-discovery: not allowed with argument --enable-discovery');
  return { group: group as PhysicalNetworkOptions['group'], display: raw.display ?? false, interfaceLimit, interfaceDescriptionLimit, enableDiscovery, disableDiscovery };
}
