/**
 * The inference core: everything needed to rank books from a model package, in any JavaScript runtime
 * (a speaker, a server, a phone's browser). No Node built-in and no ML library is imported from here;
 * files come through a PackageSource, and models the JS engine cannot run through a host's loader.
 * A test bundles this entry for the browser and fails on any Node built-in.
 */
export { bytesPackageSource, webCryptoSha256 } from './bytesPackageSource.js';
export { type CheckedPackage, checkPackage } from './checkedPackage.js';
export type { EngineLoader, ScoringEngine } from './engine.js';
export { type OpenModel, type OpenOptions, openModel } from './openModel.js';
export { openTested } from './openTested.js';
export type { PackageSource } from './packageSource.js';
export { type HistoryItem, type Ranking, type RankOptions, rank } from './ranking.js';
export { selfTest } from './selfTest.js';
export { sentenceFor } from './sentence.js';
