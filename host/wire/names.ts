// Every system process id, declared once, in both eras' spellings (v0 uses underscores where
// v1 uses hyphens; the others are the same in both). Import these instead of spelling them.

import type { ModuleNames } from '../kernel/module.js';

const same = (name: string): ModuleNames => ({ v0: name, v1: name });

export const KERNEL_NAMES = same('kernel:distro:sys');
export const TIMER_NAMES = same('timer:distro:sys');
export const HTTP_SERVER_NAMES: ModuleNames = { v0: 'http_server:distro:sys', v1: 'http-server:distro:sys' };
export const HTTP_CLIENT_NAMES: ModuleNames = { v0: 'http_client:distro:sys', v1: 'http-client:distro:sys' };
export const VFS_NAMES = same('vfs:distro:sys');
export const KV_NAMES = same('kv:distro:sys');
export const SQLITE_NAMES = same('sqlite:distro:sys');
export const STATE_NAMES = same('state:distro:sys');
export const FD_MANAGER_NAMES: ModuleNames = { v0: 'fd_manager:distro:sys', v1: 'fd-manager:distro:sys' };
export const NET_NAMES = same('net:distro:sys');
export const ETH_NAMES = same('eth:distro:sys');
export const HOMEPAGE_NAMES = same('homepage:homepage:sys');
export const APP_STORE_NAMES: ModuleNames = { v0: 'main:app_store:sys', v1: 'main:app-store:sys' };
/** The runtime's tester package (kit run-tests talks to it). */
export const TESTER_NAMES = same('tester:tester:sys');
/** kinode-host's own test driver: registered only by the test harness, never by a CLI node. */
export const DRIVER_NAMES = same('driver:kinode-host:sys');
