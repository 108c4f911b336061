// The CLI as a child process, for the CLI tests: its output as lines, a wait for a line, its
// exit code. stdin is closed ('ignore') unless a test writes to it ('pipe', as kit does).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../host/cli/main.js', import.meta.url));

export interface Run {
  child: ChildProcess;
  lines: string[];
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<number | null>;
}

export function runCli(args: string[], opts: { stdin?: 'ignore' | 'pipe'; timeoutMs?: number } = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const listeners: Array<() => void> = [];
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const waitLine = (re: RegExp, timeoutMs = opts.timeoutMs ?? 120000) =>
    new Promise<string>((res, rej) => {
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (hit) {
          clearTimeout(t);
          res(hit);
        }
      };
      const t = setTimeout(() => rej(new Error(`no line matched ${re}; got:\n${lines.join('\n')}`)), timeoutMs);
      listeners.push(check);
      check();
    });
  return { child, lines, waitLine, exit };
}
