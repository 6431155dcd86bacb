import { runMain } from '@stackyard/service';
import { startDeployment } from './app';
import { configSchema } from './config';

runMain('deployment', configSchema, (c) => startDeployment(c));
