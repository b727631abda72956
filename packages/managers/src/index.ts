export { BaseManager } from './base-manager.js';
export type { AutoProxy, ManagerOptions, RegisterOptions, RegistryEntry } from './base-manager.js';
export { SyncManager, Manager } from './sync-manager.js';
export { Server, publicMethods } from './server.js';
export type { Callable, ServerOptions, ServerRegistry, ServerTypeEntry } from './server.js';
export { BaseProxy, makeProxyType, isAutoProxyType, buildProxy } from './proxy.js';
export type { CallmethodOptions, ProxyClass, ProxyOptions, ProxyFactory } from './proxy.js';
export {
  ListProxy,
  DictProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  AcquirerProxy,
  RLockProxy,
  SemaphoreProxy,
  ConditionProxy,
  EventProxy,
  BarrierProxy,
  QueueProxy,
  JoinableQueueProxy,
} from './proxies.js';
export type { ProxyAcquireOptions, ProxyQueueOptions, ProxyWaitOptions } from './proxies.js';
export { SharedList, SharedDict, NamespaceReferent, ValueReferent, ArrayReferent } from './referents.js';
export type { DictInit, SortOptions } from './referents.js';
export {
  LockReferent,
  RLockReferent,
  SemaphoreReferent,
  BoundedSemaphoreReferent,
  ConditionReferent,
  EventReferent,
  BarrierReferent,
  QueueReferent,
  JoinableQueueReferent,
} from './sync-referents.js';
export type { ReferentWaitOptions } from './sync-referents.js';
export { PoolProxy, AsyncResultProxy, IteratorProxy } from './pool-proxies.js';
export type { PoolProxyApplyOptions, PoolProxyMapOptions } from './pool-proxies.js';
export { PoolReferent, AsyncResultReferent, IteratorReferent, createPoolReferent } from './pool-referents.js';
export { runManagerServer } from './server-process.js';
export { KeyError } from './key-error.js';
export { undeliveredSymbol } from './token.js';
export { formatValue } from './format.js';
export type { Token } from './token.js';
export {
  ProcessError,
  AuthenticationError,
  RemoteError,
  TimeoutError,
  Empty,
  Full,
  BrokenBarrierError,
  ValueError,
} from '@mpjs/util';

// Functions of this package travel to other processes by reference (a manager's
// server, its registry; a pool's worker loop): declared here, they are found at
// once rather than through the inspector.
import { registerModuleExports } from '@mpjs/serialization';
import * as self from './index.js';
registerModuleExports(import.meta.url, self);
