import { runMain } from '@stackyard/service';
import { startMonitoring } from './app';
import { configSchema } from './config';

runMain('monitoring', configSchema, (c) => startMonitoring(c));
