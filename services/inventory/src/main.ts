import { runMain } from '@stackyard/service';
import { startInventory } from './app';
import { configSchema } from './config';

runMain('inventory', configSchema, (c) => startInventory(c));
