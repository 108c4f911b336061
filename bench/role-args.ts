// What a bench child's role and command handlers take: IPC arguments, read with a clear error
// when one is missing (bench/target.ts and the role files beside it).

export type Args = Record<string, unknown>;
export type Handler = (a: Args) => Promise<unknown>;

export const str = (a: Args, k: string): string => {
  const v = a[k];
  if (typeof v !== 'string') throw new Error(`missing string argument ${k}`);
  return v;
};

export const num = (a: Args, k: string, dflt?: number): number => {
  const v = a[k] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`missing number argument ${k}`);
  return v;
};
