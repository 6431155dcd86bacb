import { runMain } from '@stackyard/service';
import { startProvisioning } from './app';
import { configSchema } from './config';

runMain('provisioning', configSchema, (c) => startProvisioning(c));
