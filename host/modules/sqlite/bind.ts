// Binding a list of values the way rusqlite's `params_from_iter` does: value i goes to parameter
// index i (1-based) whatever the parameter looks like (`?`, `?NNN`, `:name`, `@name`, `$name`),
// and the count must equal the statement's parameter count (its largest index), else
// "Wrong number of parameters passed to query. Got <n>, needed <m>".
//
// better-sqlite3 binds anonymous `?` positionally and every other form by name from an object,
// so the parameters of the SQL text are found here (outside string literals, quoted
// identifiers and comments) and numbered with SQLite's rules: `?NNN` is index NNN, a name seen
// before reuses its index, anything else takes the largest index so far plus one.

import type { BindValue } from './params.js';

export interface ParamSlot {
  /** null for an anonymous `?`; else the name without its prefix (`?3` → "3", `:a` → "a") */
  name: string | null;
  index: number;
}

const isIdent = (c: string): boolean => {
  const x = c.charCodeAt(0);
  return (x >= 0x61 && x <= 0x7a) || (x >= 0x41 && x <= 0x5a) || (x >= 0x30 && x <= 0x39) || x === 0x5f || x === 0x24 || x >= 0x80;
};

export interface ParamSlots {
  slots: ParamSlot[];
  count: number;
}

/** Parameter slots of one SQL statement, in text order, and its parameter count. */
export function paramSlots(sql: string): ParamSlots {
  const slots: ParamSlot[] = [];
  const named = new Map<string, number>();
  let max = 0;
  let i = 0;
  const n = sql.length;
  const skipQuoted = (close: string): void => {
    i++;
    while (i < n) {
      if (sql[i] === close) {
        if (close !== ']' && sql[i + 1] === close) i += 2; // doubled quote inside
        else {
          i++;
          return;
        }
      } else i++;
    }
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') skipQuoted(c);
    else if (c === '[') skipQuoted(']');
    else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '?') {
      let j = i + 1;
      while (j < n && sql[j]! >= '0' && sql[j]! <= '9') j++;
      if (j > i + 1) {
        const index = Number(sql.slice(i + 1, j));
        slots.push({ name: sql.slice(i + 1, j), index });
        max = Math.max(max, index);
      } else slots.push({ name: null, index: ++max });
      i = j;
    } else if ((c === ':' || c === '@' || c === '$') && i + 1 < n && isIdent(sql[i + 1]!)) {
      let j = i + 1;
      while (j < n && isIdent(sql[j]!)) j++;
      const full = sql.slice(i, j);
      let index = named.get(full);
      if (index === undefined) named.set(full, (index = ++max));
      slots.push({ name: sql.slice(i + 1, j), index });
      i = j;
    } else if (isIdent(c)) {
      while (i < n && isIdent(sql[i]!)) i++; // a word: a `$` inside it is not a parameter
    } else i++;
  }
  return { slots, count: max };
}

export class ParamCountError extends Error {}

/** Arguments for better-sqlite3's run/all/get: positional values, then an object of named ones. */
export function bindArgs({ slots, count }: ParamSlots, values: BindValue[]): unknown[] {
  if (values.length !== count) {
    // rusqlite stops counting one past the expected number
    const got = values.length > count ? count + 1 : values.length;
    throw new ParamCountError(`Wrong number of parameters passed to query. Got ${got}, needed ${count}`);
  }
  const positional: BindValue[] = [];
  let byName: Record<string, BindValue> | undefined;
  for (const s of slots) {
    const v = values[s.index - 1]!;
    if (s.name === null) positional.push(v);
    else (byName ??= {})[s.name] = v;
  }
  return byName ? [...positional, byName] : positional;
}
