import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { storeConformance } from './store-conformance.js';

storeConformance('memory', async () => new MemoryTaskStore());
