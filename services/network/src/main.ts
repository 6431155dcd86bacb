import { runMain } from '@stackyard/service';
import { startNetwork } from './app';
import { configSchema } from './config';

runMain('network', configSchema, (c) => startNetwork(c));
