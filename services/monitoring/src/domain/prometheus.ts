import type { ProgressData } from './progress';

/** One Prometheus file_sd target group. */
export interface TargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

/** Kolla-Ansible's exporter ports (prometheus_node_exporter_port, prometheus_cadvisor_port). */
export const EXPORTERS = [
  { job: 'node', port: 9100 },
  { job: 'cadvisor', port: 18080 },
] as const;

/**
 * Scrape targets (file_sd JSON) for the deployed cloud: every ready (or degraded) node's exporters on its
 * address on `network` (Kolla's api_interface network, `internal` by default), falling back to the
 * first network it has. Sorted, so the output is byte-stable.
 */
export function scrapeTargets(nodes: readonly ProgressData[], network = 'internal'): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const n of [...nodes].sort((a, b) => a.host.hostId.localeCompare(b.host.hostId))) {
    // A degraded node stays a target: its exporters say what is wrong.
    if ((n.state !== 'ready' && n.state !== 'degraded') || !n.addresses) continue;
    const names = Object.keys(n.addresses).sort();
    const address = n.addresses[network] ?? (names[0] ? n.addresses[names[0]] : undefined);
    if (!address) continue;
    for (const e of EXPORTERS) {
      groups.push({
        targets: [`${address}:${e.port}`],
        labels: { job: e.job, site: n.host.siteId, host: n.host.name, groups: n.host.groups.join(',') },
      });
    }
  }
  return groups;
}

/** Alert rules for the deployed cloud and for Stackyard's own sagas (Prometheus rule file YAML). */
export function alertRules(): string {
  return `groups:
  - name: stackyard-cloud
    rules:
      - alert: NodeExporterDown
        expr: up{job="node"} == 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "Node {{ $labels.host }} ({{ $labels.site }}) is not reporting"
          description: "node_exporter on {{ $labels.instance }} has been unreachable for 5 minutes."
      - alert: ContainerMetricsDown
        expr: up{job="cadvisor"} == 0
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "Container metrics of {{ $labels.host }} are missing"
          description: "cAdvisor on {{ $labels.instance }} has been unreachable for 10 minutes."
      - alert: NodeFilesystemAlmostFull
        expr: (node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"}) < 0.1
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.host }} is over 90% full"
  - name: stackyard-platform
    rules:
      - alert: StackyardEventsRetrying
        expr: sum by (service, consumer) (rate(stackyard_events_handled_total{outcome="retry"}[5m])) > 0.1
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.consumer }} keeps retrying events"
          description: "Saga steps handled by {{ $labels.consumer }} ({{ $labels.service }}) fail and are redelivered."
      - alert: StackyardEventsTerminated
        expr: sum by (service, consumer) (increase(stackyard_events_handled_total{outcome="terminated"}[15m])) > 0
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.consumer }} gave up on events"
          description: "Events were terminated (undecodable, or failed for good without a failure event)."
      - alert: StackyardStepSlow
        expr: histogram_quantile(0.99, sum by (le, consumer) (rate(stackyard_event_handle_seconds_bucket[10m]))) > 60
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "Saga step {{ $labels.consumer }} p99 above 60 s"
`;
}
