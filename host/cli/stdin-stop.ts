// Stop on Ctrl-C / Ctrl-D typed into stdin, as the runtime's terminal does: `kit run-tests`
// stops a node by writing the byte 0x03 to the pty it gave as stdin (no signal is sent), and
// waits for the node to exit. A pty stdin is put into raw mode so 0x03 arrives as a byte
// rather than being turned into a signal by the line discipline. A stdin that is closed (at
// once, as /dev/null is, or later) stops nothing.

import { readFileSync, fstatSync } from 'node:fs';

/** Are we a background job on our own controlling terminal (where changing its mode would stop us)? */
function backgroundOnOwnTerminal(): boolean {
  try {
    // /proc/self/stat: pid (comm) state ppid pgrp session tty_nr tpgid ...
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const ttyNr = Number(f[4]);
    const tpgid = Number(f[5]);
    return ttyNr === fstatSync(0).rdev && tpgid !== pgrp;
  } catch {
    return false;
  }
}

/** Call `stop` once when 0x03 or 0x04 is read from stdin. Returns a function restoring the terminal. */
export function stopOnStdinControl(stop: (why: string) => void): () => void {
  const stdin = process.stdin;
  let raw = false;
  if (stdin.isTTY && !backgroundOnOwnTerminal()) {
    try {
      stdin.setRawMode(true);
      raw = true;
    } catch {
      // not a terminal we may change: signals still stop us
    }
  }
  stdin.on('data', (chunk: Buffer) => {
    if (chunk.includes(0x03)) stop('Ctrl-C (0x03) on stdin');
    else if (chunk.includes(0x04)) stop('Ctrl-D (0x04) on stdin');
  });
  stdin.on('error', () => {}); // an unreadable stdin is like a closed one
  stdin.resume();
  return () => {
    if (raw) {
      try {
        stdin.setRawMode(false);
      } catch {
        // the terminal is gone
      }
    }
    stdin.pause();
  };
}
