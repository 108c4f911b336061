// VFS capability rules (runtime vfs.rs `check_caps`), asked of the kernel's capability oracle:
// a process's own package needs no cap; the read group needs a read cap on the drive, the
// write group a write cap (a write cap does not imply read); Rename/CopyFile need write on the
// source drive and on a different target drive; CreateDrive of another package needs root;
// the root cap `{"root":true}` stands in for any of them. CreateDrive grants read+write.

import type { Address, Capability, ProcessId } from '../../types.js';
import type { ModuleContext } from '../../kernel/module.js';
import type { VfsAction } from '../../wire/vfs.js';
import { VFS_NAMES } from '../../wire/names.js';
import { parseProcessId } from '../../kernel/address.js';

const VFS_PID = parseProcessId(VFS_NAMES.v1);

const WRITE_GROUP = new Set([
  'CreateDir', 'CreateDirAll', 'CreateFile', 'OpenFile', 'CloseFile', 'Write', 'WriteAll', 'Append', 'SyncAll',
  'RemoveFile', 'RemoveDir', 'RemoveDirAll', 'AddZip', 'SetLen',
]);

export type CapVerdict = 'ok' | 'no-read' | 'no-write';

export class VfsCaps {
  private readonly issuer: Address;

  constructor(private readonly ctx: ModuleContext) {
    this.issuer = { node: ctx.node, process: VFS_PID };
  }

  /** The runtime writes drive caps with this exact spacing; the kernel compares parsed JSON. */
  driveCap(kind: 'read' | 'write', driveKey: string): Capability {
    return { issuer: this.issuer, params: `{"kind": "${kind}", "drive": ${JSON.stringify(driveKey)}}` };
  }

  rootCap(): Capability {
    return { issuer: this.issuer, params: '{"root":true}' };
  }

  hasRoot(holder: ProcessId): boolean {
    return this.ctx.hasCapability(holder, this.rootCap());
  }

  private has(holder: ProcessId, kind: 'read' | 'write', driveKey: string): boolean {
    return this.ctx.hasCapability(holder, this.driveCap(kind, driveKey)) || this.hasRoot(holder);
  }

  /**
   * May `holder` (of package `senderPkg`) do `action` on drive `driveKey` of package `pkg`?
   * For Rename/CopyFile `target` is the new path's package and drive.
   */
  check(holder: ProcessId, senderPkg: string, action: VfsAction, pkg: string, driveKey: string, target?: { pkg: string; driveKey: string }): CapVerdict {
    if (action.tag === 'Rename' || action.tag === 'CopyFile') {
      if (senderPkg === pkg && senderPkg === target!.pkg) return 'ok';
      if (!this.has(holder, 'write', driveKey)) return 'no-write';
      if (target!.driveKey === driveKey) return 'ok';
      return this.has(holder, 'write', target!.driveKey) ? 'ok' : 'no-write';
    }
    if (action.tag === 'CreateDrive') return senderPkg === pkg || this.hasRoot(holder) ? 'ok' : 'no-write';
    if (senderPkg === pkg) return 'ok';
    if (WRITE_GROUP.has(action.tag)) return this.has(holder, 'write', driveKey) ? 'ok' : 'no-write';
    return this.has(holder, 'read', driveKey) ? 'ok' : 'no-read';
  }

  /** CreateDrive's side effect: read + write on the drive for the caller (every time). */
  grantDrive(holder: ProcessId, driveKey: string): void {
    this.ctx.grantCapabilities(holder, [this.driveCap('read', driveKey), this.driveCap('write', driveKey)]);
  }
}
