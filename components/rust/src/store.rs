//! Feature `store` (the rust-store-vN builds): a storage client that sends process_lib's exact
//! requests to kv, sqlite and vfs, so that the benchmark and test/rust-storage.test.ts measure
//! and check the host's storage path from a Rust process (no JS engine in the component).
//! Steered by requests whose body starts with `store ` (from the in-host test driver); each
//! command ends with a request `store done …` / `store setup …` sent back to the requester
//! (like the echo's `flood done`), so the answer does not depend on which message is "current".
//!
//! Commands (db `bench` of our own package, drive `/<package>:<publisher>/bench`):
//! * `store setup`: kv Open, sqlite Open, CREATE TABLE t, one kv Set, one INSERT, vfs CreateDrive,
//!   each sent with send-and-await-response and checked → `store setup ok` | `store setup failed: …`
//! * `store <op> <n> <window>`, op kv-set | kv-get | sql-insert | sql-select: `n` requests with
//!   expects-response 5, `window` in flight, responses through receive; every answer (and blob,
//!   fetched with get-blob as process_lib does) compared with the expected one →
//!   `store done <op> <n> <errors>[ first error: …]`
//! * `store vfs <size> <n>`: `n` pairs of vfs Write (a `size`-byte blob) + Read of the same file,
//!   each with send-and-await-response as process_lib's File::write / File::read →
//!   `store done vfs <n> <errors> <bytes read back>[ first error: …]`
//! Bodies are formatted by hand in the sender's era (no serde): v0 kv Get `{"Get":{"key":[..]}}`,
//! v1 `{"Get":[..]}`; v0 sqlite `{"Read":{"query":..}}`, v1 `{"Query":..}`.

use super::*;

mod imports {
    #[cfg_attr(not(feature = "v1"), link(wasm_import_module = "kinode:process/standard@0.8.0"))]
    #[cfg_attr(feature = "v1", link(wasm_import_module = "kinode:process/standard@1.0.0"))]
    extern "C" {
        /// 24 flat params > 16: the (address, request, option<blob>) tuple is passed in memory
        /// (`AwaitArgs`), the result through `ret` (`AwaitRet`)
        #[link_name = "send-and-await-response"]
        pub fn send_and_await_response(params: *const u8, ret: *mut u8);
    }
}

const V1: bool = cfg!(feature = "v1");
/** process_lib's default timeout for kv, sqlite and vfs (seconds) */
const TIMEOUT: u64 = 5;
/** process_lib's typed key `"bench-key"`: the JSON text of the key, quotes included */
const KEY: &[u8] = b"\"bench-key\"";
/** a 64-byte JSON value (process_lib's kv::set JSON-encodes the value into the blob) */
const VALUE: &[u8] = b"{\"v\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
const ROW_TEXT: &str = "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy";

fn sys(name: &str) -> Addr {
    Addr(["our".into(), name.into(), "distro".into(), "sys".into()])
}

/// One kind of request: what is sent and what must come back.
struct Case {
    target: Addr,
    body: Vec<u8>,
    blob: Option<Vec<u8>>,
    want: Vec<u8>,
    want_blob: Option<Vec<u8>>,
}

/// The request bodies of our package's db `bench`.
struct Bodies {
    pkg: String,
    publ: String,
}

impl Bodies {
    fn package_id(&self) -> String {
        format!("{{\"package_name\":{},\"publisher_node\":{}}}", json_str(&self.pkg), json_str(&self.publ))
    }
    fn db(&self, action: &str) -> Vec<u8> {
        format!("{{\"package_id\":{},\"db\":\"bench\",\"action\":{action}}}", self.package_id()).into_bytes()
    }
    fn drive(&self) -> String {
        format!("/{}:{}/bench", self.pkg, self.publ)
    }
    fn vfs(&self, path: &str, action: &str) -> Vec<u8> {
        format!("{{\"path\":{},\"action\":{action}}}", json_str(path)).into_bytes()
    }
    fn case(&self, op: &str) -> Option<Case> {
        let key = format!("[{}]", KEY.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(","));
        let get = if V1 { format!("{{\"Get\":{key}}}") } else { format!("{{\"Get\":{{\"key\":{key}}}}}") };
        let query = "SELECT id, v FROM t WHERE id = ?";
        let (target, action, blob, want, want_blob) = match op {
            "kv-set" => ("kv", format!("{{\"Set\":{{\"key\":{key},\"tx_id\":null}}}}"), Some(VALUE.to_vec()), "\"Ok\"".to_string(), None),
            "kv-get" => ("kv", get.clone(), None, get, Some(VALUE.to_vec())),
            "sql-insert" => (
                "sqlite",
                "{\"Write\":{\"statement\":\"INSERT INTO t (v) VALUES (?)\",\"tx_id\":null}}".to_string(),
                Some(format!("[\"{ROW_TEXT}\"]").into_bytes()),
                "\"Ok\"".to_string(),
                None,
            ),
            "sql-select" => (
                "sqlite",
                if V1 { format!("{{\"Query\":\"{query}\"}}") } else { format!("{{\"Read\":{{\"query\":\"{query}\"}}}}") },
                Some(b"[1]".to_vec()),
                "\"Read\"".to_string(),
                Some(format!("[{{\"id\":1,\"v\":\"{ROW_TEXT}\"}}]").into_bytes()),
            ),
            _ => return None,
        };
        Some(Case { target: sys(target), body: self.db(&action), blob, want: want.into_bytes(), want_blob })
    }
}

/// A JSON string literal (the few strings we send are names and paths).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What came back for one request, compared with what the case expects: None when right.
fn check(body: &[u8], blob: Option<&[u8]>, want: &[u8], want_blob: Option<&[u8]>) -> Option<String> {
    if body != want {
        return Some(format!("answer {}", String::from_utf8_lossy(body)));
    }
    match (want_blob, blob) {
        (Some(w), Some(b)) if w != b => Some(format!("blob {}", String::from_utf8_lossy(&b[..b.len().min(200)]))),
        (Some(_), None) => Some("no blob".into()),
        _ => None,
    }
}

/// The in-memory argument tuple of send-and-await-response (112 bytes, align 8):
///   address @0; request @32 (inherit @32, expects-response tag @40 / u64 @48, body @56,
///   metadata @64, capabilities @76); option<blob> tag @88, mime tag @92 / (ptr,len) @96, bytes @104
#[repr(C, align(8))]
struct AwaitArgs([u8; 112]);

/// result<tuple<address, message>, send-error> (136 bytes, align 8): tag @0; ok: address @8,
/// message @40; err: send-error @8
#[repr(C, align(8))]
struct AwaitRet([u8; 136]);

/// send-and-await-response (expects-response TIMEOUT, no metadata or capabilities): the
/// response's body, and its blob when `want_blob` (taken with get-blob, as process_lib does).
fn send_and_await(to: &Addr, body: &[u8], blob: Option<&[u8]>, want_blob: bool) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let mut a = AwaitArgs([0; 112]);
    let p = a.0.as_mut_ptr();
    let mut ret = AwaitRet([0; 136]);
    let r = ret.0.as_mut_ptr();
    unsafe {
        for (i, s) in to.0.iter().enumerate() {
            wr32(p, i * 8, s.as_ptr() as usize);
            wr32(p, i * 8 + 4, s.len());
        }
        *p.add(40) = 1;
        (p.add(48) as *mut u64).write_unaligned(TIMEOUT);
        wr32(p, 56, body.as_ptr() as usize);
        wr32(p, 60, body.len());
        if let Some(bytes) = blob {
            *p.add(88) = 1;
            wr32(p, 104, bytes.as_ptr() as usize);
            wr32(p, 108, bytes.len());
        }
        imports::send_and_await_response(p, r);
        if rd8(r, 0) != 0 {
            let e = r.add(8);
            let kind = if rd8(e, 0) == 0 { "offline" } else { "timeout" };
            free_address(e.add(4));
            free_message(e.add(40));
            free_opt_blob(e.add(104));
            return Err(format!("send error: {kind}"));
        }
        let msg = r.add(40);
        let out = if rd8(msg, 0) == 0 {
            Err("got a request instead of a response".to_string())
        } else {
            let body = bytes_at(msg.add(8), 4).to_vec();
            let blob = if want_blob { with_blob(|b| b.map(|(_, bytes)| bytes.to_vec())) } else { None };
            Ok((body, blob))
        };
        free_address(r.add(8));
        free_message(msg);
        out
    }
}

/// One request awaited and checked against the expected answer.
fn await_ok(to: &Addr, body: &[u8], blob: Option<&[u8]>, want: &[u8]) -> Result<(), String> {
    let (got, _) = send_and_await(to, body, blob, false)?;
    check(&got, None, want, None).map_or(Ok(()), Err)
}

fn setup(b: &Bodies) -> Result<(), String> {
    let step = |name: &str, r: Result<(), String>| r.map_err(|e| format!("{name}: {e}"));
    step("kv Open", await_ok(&sys("kv"), &b.db("\"Open\""), None, b"\"Ok\""))?;
    step("sqlite Open", await_ok(&sys("sqlite"), &b.db("\"Open\""), None, b"\"Ok\""))?;
    let create = "{\"Write\":{\"statement\":\"CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)\",\"tx_id\":null}}";
    step("CREATE TABLE", await_ok(&sys("sqlite"), &b.db(create), Some(b"[]"), b"\"Ok\""))?;
    for op in ["kv-set", "sql-insert"] {
        let c = b.case(op).expect("known op");
        step(op, await_ok(&c.target, &c.body, c.blob.as_deref(), &c.want))?;
    }
    step("vfs CreateDrive", await_ok(&sys("vfs"), &b.vfs(&b.drive(), "\"CreateDrive\""), None, b"\"Ok\""))
}

/// `n` requests of one case, `window` in flight, responses taken through receive.
fn flood(c: &Case, n: u64, window: u64) -> (u64, Option<String>) {
    let window = window.max(1);
    let (mut sent, mut outstanding, mut errors) = (0u64, 0u64, 0u64);
    let mut first: Option<String> = None;
    let mut ret = RetArea([0; 152]);
    let r = ret.0.as_mut_ptr();
    loop {
        while sent < n && outstanding < window {
            send_request(&c.target, Some(TIMEOUT), &c.body, c.blob.as_deref().map(|b| (None, b)));
            sent += 1;
            outstanding += 1;
        }
        if outstanding == 0 {
            return (errors, first);
        }
        unsafe {
            abi::receive(r);
            if rd8(r, 0) != 0 {
                // a send error (timeout / offline) of one of ours
                let e = r.add(8);
                outstanding -= 1;
                errors += 1;
                first.get_or_insert_with(|| format!("send error: {}", if rd8(e, 0) == 0 { "offline" } else { "timeout" }));
                free_address(e.add(4));
                free_message(e.add(40));
                free_opt_blob(e.add(104));
                free_opt_bytes(r, 136);
                continue;
            }
            let src = r.add(8);
            let msg = r.add(40);
            if rd8(msg, 0) == 1 {
                outstanding -= 1;
                let body = bytes_at(msg.add(8), 4);
                let bad = match &c.want_blob {
                    None => check(body, None, &c.want, None),
                    Some(w) => with_blob(|blob| check(body, blob.map(|(_, b)| b), &c.want, Some(w))),
                };
                if let Some(why) = bad {
                    errors += 1;
                    first.get_or_insert(why);
                }
            }
            // requests arriving during a flood are dropped (the driver waits for our report)
            free_address(src);
            free_message(msg);
        }
    }
}

/// `n` Write + Read pairs of one `size`-byte file: (errors, bytes read back, first error).
fn vfs_pairs(b: &Bodies, size: usize, n: u64) -> (u64, u64, Option<String>) {
    let bytes: Vec<u8> = (0..size).map(|i| (i & 255) as u8).collect();
    let path = format!("{}/file-{size}.bin", b.drive());
    let write = b.vfs(&path, "\"Write\"");
    let read = b.vfs(&path, "\"Read\"");
    let vfs = sys("vfs");
    let (mut errors, mut back) = (0u64, 0u64);
    let mut first: Option<String> = None;
    let mut fail = |e: String, first: &mut Option<String>| {
        errors += 1;
        first.get_or_insert(e);
    };
    for i in 0..n {
        if let Err(e) = await_ok(&vfs, &write, Some(&bytes), b"\"Ok\"") {
            fail(format!("Write: {e}"), &mut first);
        }
        match send_and_await(&vfs, &read, None, true) {
            Err(e) => fail(format!("Read: {e}"), &mut first),
            Ok((body, blob)) => {
                let blob = blob.unwrap_or_default();
                back += blob.len() as u64;
                // the whole content once, the length every time
                let same = if i == 0 { blob == bytes } else { blob.len() == size };
                if body != b"\"Read\"" || !same {
                    fail(format!("Read: answer {} with {} bytes", String::from_utf8_lossy(&body), blob.len()), &mut first);
                }
            }
        }
    }
    (errors, back, first)
}

fn with_first(mut s: String, first: Option<String>) -> String {
    if let Some(f) = first {
        s.push_str(" first error: ");
        s.push_str(&f);
    }
    s
}

/// A `store …` command from `source`; false when `body` is not one.
pub unsafe fn command(our: &str, source: *const u8, body: &[u8]) -> bool {
    let Some(args) = body.strip_prefix(b"store ") else { return false };
    let args = String::from_utf8_lossy(args).into_owned();
    let parts: Vec<&str> = args.split(' ').collect();
    let reply_to = Addr::read(source);
    let Some(me) = Addr::parse(our) else {
        print(0, "rust store: bad our address");
        return true;
    };
    let [_, _, pkg, publ] = me.0;
    let b = Bodies { pkg, publ };
    let num = |i: usize| parts.get(i).and_then(|s| s.parse::<u64>().ok());
    let report = match (parts[0], num(1), num(2)) {
        ("setup", _, _) => match setup(&b) {
            Ok(()) => "store setup ok".to_string(),
            Err(e) => format!("store setup failed: {e}"),
        },
        ("vfs", Some(size), Some(n)) => {
            let (errors, back, first) = vfs_pairs(&b, size as usize, n);
            with_first(format!("store done vfs {n} {errors} {back}"), first)
        }
        (op, Some(n), Some(window)) => match b.case(op) {
            Some(c) => {
                let (errors, first) = flood(&c, n, window);
                with_first(format!("store done {op} {n} {errors}"), first)
            }
            None => format!("store failed: unknown op {op}"),
        },
        _ => format!("store failed: bad command {args}"),
    };
    send_request(&reply_to, None, report.as_bytes(), None);
    true
}
