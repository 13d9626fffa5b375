/**
 * `legate/store-conformance`: the conformance suite every `TaskStore` backend passes, for a backend
 * written outside this repository. It imports no test framework: pass `{ describe, it, expect }`.
 */
export { type ConformanceHarness, type StoreSetup, storeConformance, taskFixture } from './tasks/store/conformance.js';
