// Frames a process pushes to one client within one run of the kernel thread (one drain of the
// process's sends, docs/performance.md §23) go out in one socket write: the second push to a
// socket in a run corks it, and the run's end (a nextTick, after the drain) uncorks every socket
// corked in it. The first push of a run is written at once, so a client with one frame in flight
// (the echo pattern) pays no cork and no wait; a process streaming several frames to a client
// pays one writev for all of them instead of one each. Order is unchanged: a corked socket
// queues every later write (ws's own frames, its Close) behind the earlier ones.

import type { Duplex } from 'node:stream';

/** What the coalescer keeps on each channel. */
export interface PushMarks {
  /** the run of this socket's last push */
  lastPushRun: number;
  /** the run in which this socket was corked */
  corkedRun: number;
}

export class PushCoalescer {
  private run = 1;
  private readonly corked: Duplex[] = [];
  private scheduled = false;

  /** Call before a frame is written to `socket`. */
  beforePush(socket: Duplex, marks: PushMarks): void {
    const run = this.run;
    if (marks.lastPushRun !== run) {
      marks.lastPushRun = run;
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.endRun);
      }
      return;
    }
    if (marks.corkedRun === run) return;
    marks.corkedRun = run;
    socket.cork();
    this.corked.push(socket);
  }

  private readonly endRun = (): void => {
    this.scheduled = false;
    this.run++;
    // a destroyed socket ignores its uncork; the others write what they queued, in order
    for (const s of this.corked) s.uncork();
    this.corked.length = 0;
  };
}
