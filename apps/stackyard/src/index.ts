export { startLocalCluster, SERVICES, type LocalCluster, type ServiceName } from './cluster';
export { clientsFor, type Clients } from './clients';
export { loadSite, followSite } from './pipeline';
export { readSiteFile, type SiteFile } from './site-file';
export { abortNode, listNodes, showNode, retryNode, watchSite, type NodeCommandOptions } from './nodes';
export { baremetalAction, baremetalQueue, baremetalShow, BAREMETAL_ACTIONS, type BaremetalOptions } from './baremetal';
export { secretCommand } from './secret';
export { overcloud, type OvercloudIo } from './overcloud';
export { parseOvercloud, parseLimit, planFor, selectHosts, type OvercloudRequest, type OvercloudVerb } from './overcloud-plan';
