// Authentication of browser requests: the node password, the JWT secret kept under
// `<home>/http-server/jwt_secret`, and the `kinode-auth_<node>` cookie holding an HS256 JWT
// with the runtime's claims `{username, subdomain, expiration}` (plus the standard `exp`).
//
// Cookie lookup is the runtime's: the `cookie` header is split on "; ", each part split on `=`
// must give exactly two parts, the first equal to the expected name; an empty value fails.
//
// Login accepts what the runtime's login pages post and what ours did before (kinode-modules.md
// §10): `password` (the plain password), or `password_hash` = `0x` + hex of SHA-256(password)
// (Kinode 0.9's page), `0x` + hex of Argon2id(password, salt = node name, t=2, m=19456 KiB, p=1,
// 32 bytes) (Kinode 1.0's page and ours), or the plain password itself (kinode-host until now).
// The Argon2 digest is computed once, on the first login that needs it (~0.15 s), not at boot.

import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { argon2id } from 'hash-wasm';

/** Kinode 1.0's login page: argon2-browser with these parameters (Argon2 v1.3). */
export const LOGIN_ARGON2 = { iterations: 2, memorySize: 19456, parallelism: 1, hashLength: 32 } as const;

/** `0x` + lowercase hex of SHA-256 of the UTF-8 password (Kinode 0.9's login page). */
export function sha256PasswordHash(password: string): string {
  return `0x${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/**
 * `0x` + lowercase hex of Argon2id(password, salt = node name) (Kinode 1.0's login page);
 * undefined when the node name is shorter than Argon2's 8-byte minimum salt.
 */
export async function argon2PasswordHash(password: string, node: string): Promise<string | undefined> {
  if (Buffer.byteLength(node, 'utf8') < 8) return undefined;
  return `0x${await argon2id({ password, salt: node, ...LOGIN_ARGON2, outputType: 'hex' })}`;
}

/** v1 issues tokens valid for 26 weeks */
export const TOKEN_LIFETIME_SECS = 26 * 7 * 24 * 3600;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** `kinode-auth_<node>` or, for a secure subdomain, `kinode-auth_<node>@<process id>` */
export function cookieName(node: string, subdomain: string | undefined): string {
  return subdomain === undefined ? `kinode-auth_${node}` : `kinode-auth_${node}@${subdomain}`;
}

/** The value of cookie `name` in a `cookie` header, by the runtime's rules; undefined if none. */
export function findCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const entry of header.split('; ')) {
    const parts = entry.split('=');
    if (parts.length === 2 && parts[0] === name) return parts[1]!.length > 0 ? parts[1] : undefined;
  }
  return undefined;
}

/** The JWT secret, created once (32 random bytes, mode 0600) so cookies survive restarts. */
export function loadJwtSecret(home: string): Uint8Array {
  const dir = join(home, 'http-server');
  const file = join(dir, 'jwt_secret');
  try {
    const s = readFileSync(file);
    if (s.length >= 32) return new Uint8Array(s);
  } catch {
    // not there yet
  }
  mkdirSync(dir, { recursive: true });
  const s = randomBytes(32);
  writeFileSync(file, s, { mode: 0o600 });
  return new Uint8Array(s);
}

export class Auth {
  readonly password: string;
  readonly generatedPassword: boolean;
  private readonly passwordDigest: Buffer;
  private readonly sha256Digest: Buffer;
  private argon2Digest: Promise<Buffer | undefined> | undefined;

  constructor(
    readonly node: string,
    private readonly secret: Uint8Array,
    password: string | undefined,
  ) {
    this.generatedPassword = password === undefined;
    this.password = password ?? randomBytes(12).toString('base64url');
    this.passwordDigest = digest(this.password);
    this.sha256Digest = digest(sha256PasswordHash(this.password));
  }

  /** Constant-time comparison with the node password. */
  checkPassword(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.passwordDigest);
  }

  /** A `/login` body's credentials: the plain password, or a `password_hash` in any accepted form. */
  async checkLogin(info: { password: string | undefined; passwordHash: string | undefined }): Promise<boolean> {
    if (info.password !== undefined && this.checkPassword(info.password)) return true;
    const h = info.passwordHash;
    if (h === undefined) return false;
    if (this.checkPassword(h)) return true;
    const d = digest(h.toLowerCase());
    if (timingSafeEqual(d, this.sha256Digest)) return true;
    if (!/^0x[0-9a-f]{64}$/i.test(h)) return false;
    this.argon2Digest ??= argon2PasswordHash(this.password, this.node).then((a) => (a === undefined ? undefined : digest(a)));
    const a = await this.argon2Digest;
    return a !== undefined && timingSafeEqual(d, a);
  }

  /** A signed token for `subdomain` (a process id for secure subdomains, else undefined). */
  async issue(subdomain: string | undefined, lifetimeSecs = TOKEN_LIFETIME_SECS): Promise<string> {
    const expiration = Math.floor(Date.now() / 1000) + lifetimeSecs;
    return new SignJWT({ username: this.node, subdomain: subdomain ?? null, expiration })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(expiration)
      .sign(this.secret);
  }

  /** Whether the `cookie` header carries a valid token for `subdomain` (undefined: the node itself). */
  async valid(cookieHeader: string | undefined, subdomain: string | undefined): Promise<boolean> {
    return this.validToken(findCookie(cookieHeader, cookieName(this.node, subdomain)), subdomain);
  }

  /** Whether `token` (a cookie's value, e.g. a WsRegister `auth_token`) is valid for `subdomain`. */
  async validToken(token: string | undefined, subdomain: string | undefined): Promise<boolean> {
    if (token === undefined || !JWT_SHAPE.test(token)) return false;
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'] });
      const expiration = payload.expiration;
      return (
        payload.username === this.node &&
        (payload.subdomain ?? null) === (subdomain ?? null) &&
        typeof expiration === 'number' &&
        expiration > Math.floor(Date.now() / 1000)
      );
    } catch {
      return false;
    }
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
