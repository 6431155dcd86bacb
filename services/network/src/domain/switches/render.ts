/**
 * Vendor renderers: configuration text for a planned switch. Order is fixed: global
 * `switch_config` lines as given, VLAN definitions by id, then interfaces in natural name order.
 * Output ends with a newline and is byte-stable for equal input.
 */
import type { SwitchType, VlanRef } from './types';
import type { PlannedInterface, SwitchPlan } from './plan';

function vlansOf(plan: SwitchPlan): VlanRef[] {
  const m = new Map<number, string>();
  for (const i of plan.interfaces) {
    if (i.vlans === null) continue;
    if (i.vlans.native) m.set(i.vlans.native.vlan, i.vlans.native.network);
    for (const t of i.vlans.tagged) m.set(t.vlan, t.network);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([vlan, network]) => ({ network, vlan }));
}

/** Native first when it sorts first; always ascending by id. */
function allowed(i: PlannedInterface): VlanRef[] {
  if (i.vlans === null) return [];
  const all = i.vlans.native ? [i.vlans.native, ...i.vlans.tagged] : [...i.vlans.tagged];
  return all.sort((a, b) => a.vlan - b.vlan);
}

const isAccess = (i: PlannedInterface): boolean => i.vlans !== null && i.vlans.native !== null && i.vlans.tagged.length === 0;
const ids = (vs: readonly VlanRef[]): string => vs.map((v) => v.vlan).join(',');
const text = (lines: readonly string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

export function renderArista(plan: SwitchPlan): string {
  const out = [...plan.switch.switch_config];
  for (const v of vlansOf(plan)) out.push(`vlan ${v.vlan}`, `   name ${v.network}`);
  for (const i of plan.interfaces) {
    out.push(`interface ${i.name}`);
    if (i.description !== '') out.push(`   description ${i.description}`);
    if (i.vlans !== null && i.vlans.native !== null && isAccess(i)) {
      out.push('   switchport mode access', `   switchport access vlan ${i.vlans.native.vlan}`);
    } else if (i.vlans !== null && (i.vlans.native !== null || i.vlans.tagged.length > 0)) {
      out.push('   switchport mode trunk');
      if (i.vlans.native !== null) out.push(`   switchport trunk native vlan ${i.vlans.native.vlan}`);
      out.push(`   switchport trunk allowed vlan ${ids(allowed(i))}`);
    }
    for (const l of i.config) out.push(`   ${l}`);
  }
  return text(out);
}

export function renderDellOs10(plan: SwitchPlan): string {
  const out = [...plan.switch.switch_config];
  for (const v of vlansOf(plan)) out.push(`interface vlan${v.vlan}`, ` description ${v.network}`);
  for (const i of plan.interfaces) {
    out.push(`interface ${i.name}`);
    if (i.description !== '') out.push(` description ${i.description}`);
    if (i.vlans !== null && i.vlans.native !== null && isAccess(i)) {
      out.push(' switchport mode access', ` switchport access vlan ${i.vlans.native.vlan}`);
    } else if (i.vlans !== null && (i.vlans.native !== null || i.vlans.tagged.length > 0)) {
      // OS10: in trunk mode the access VLAN is the untagged (native) one.
      out.push(' switchport mode trunk');
      if (i.vlans.native !== null) out.push(` switchport access vlan ${i.vlans.native.vlan}`);
      if (i.vlans.tagged.length > 0) out.push(` switchport trunk allowed vlan ${ids(i.vlans.tagged)}`);
    }
    for (const l of i.config) out.push(` ${l}`);
  }
  return text(out);
}

/** Junos in set format; per-interface config lines are relative to `set interfaces <name>`. */
export function renderJunos(plan: SwitchPlan): string {
  const out = [...plan.switch.switch_config];
  for (const v of vlansOf(plan)) out.push(`set vlans ${v.network} vlan-id ${v.vlan}`);
  for (const i of plan.interfaces) {
    const p = `set interfaces ${i.name}`;
    if (i.description !== '') out.push(`${p} description "${i.description}"`);
    const vs = allowed(i);
    if (i.vlans !== null && vs.length > 0) {
      out.push(`${p} unit 0 family ethernet-switching interface-mode ${isAccess(i) ? 'access' : 'trunk'}`);
      if (!isAccess(i) && i.vlans.native !== null) out.push(`${p} native-vlan-id ${i.vlans.native.vlan}`);
      const members = vs.map((v) => v.network);
      out.push(`${p} unit 0 family ethernet-switching vlan members ${members.length === 1 ? (members[0] as string) : `[ ${members.join(' ')} ]`}`);
    }
    for (const l of i.config) out.push(`${p} ${l}`);
  }
  return text(out);
}

/**
 * Cumulus Linux NVUE commands; global lines are given without `nv ` and per-interface lines are
 * relative to `nv set interface <name>`. Ends with `nv config apply --assume-yes`.
 */
export function renderNvue(plan: SwitchPlan): string {
  const out = plan.switch.switch_config.map((l) => `nv ${l}`);
  const all = vlansOf(plan);
  if (all.length > 0) out.push(`nv set bridge domain br_default vlan ${ids(all)}`);
  for (const i of plan.interfaces) {
    const p = `nv set interface ${i.name}`;
    if (i.description !== '') out.push(`${p} description "${i.description}"`);
    if (i.vlans !== null && i.vlans.native !== null && isAccess(i)) {
      out.push(`${p} bridge domain br_default access ${i.vlans.native.vlan}`);
    } else if (i.vlans !== null && i.vlans.tagged.length > 0) {
      out.push(`${p} bridge domain br_default vlan ${ids(allowed(i))}`);
      out.push(`${p} bridge domain br_default untagged ${i.vlans.native === null ? 'none' : String(i.vlans.native.vlan)}`);
    }
    for (const l of i.config) out.push(`${p} ${l}`);
  }
  out.push('nv config apply --assume-yes');
  return text(out);
}

export const VENDOR_NAMES: Readonly<Record<SwitchType, string>> = {
  arista: 'Arista EOS',
  dellos10: 'Dell OS10',
  junos: 'Juniper Junos',
  nvue: 'NVIDIA Cumulus Linux (NVUE)',
};

export function renderSwitchConfig(plan: SwitchPlan): string {
  switch (plan.switch.switch_type) {
    case 'arista':
      return renderArista(plan);
    case 'dellos10':
      return renderDellOs10(plan);
    case 'junos':
      return renderJunos(plan);
    case 'nvue':
      return renderNvue(plan);
  }
}

/** `--display`: per switch, what would be applied; nothing is applied. */
export function renderDisplay(plans: readonly SwitchPlan[]): string {
  if (plans.length === 0) return '# No switches selected; nothing would be applied.\n';
  return plans
    .map((p) => {
      const body = renderSwitchConfig(p);
      const group = p.switch.group ?? 'switches';
      const head = `# ${p.switch.name} (${VENDOR_NAMES[p.switch.switch_type]}, ${group}): ${p.interfaces.length} interface(s), ${p.switch.switch_config.length} global line(s) would be applied\n`;
      return head + (body === '' ? '# (no configuration)\n' : body);
    })
    .join('\n');
}
