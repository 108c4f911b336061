//! A minimal Kinode process ("echo") written against the raw canonical ABI: no wit-bindgen,
//! no external crates. Built for process-v0 (default) or process-v1 (`--features v1`).
//! See ../README.md for the layouts used below.

use std::alloc::{alloc, dealloc, realloc, Layout};

mod abi {
    #[cfg_attr(not(feature = "v1"), link(wasm_import_module = "kinode:process/standard@0.8.0"))]
    #[cfg_attr(feature = "v1", link(wasm_import_module = "kinode:process/standard@1.0.0"))]
    extern "C" {
        #[link_name = "print-to-terminal"]
        pub fn print_to_terminal(verbosity: i32, ptr: *const u8, len: usize);
        #[link_name = "receive"]
        pub fn receive(ret: *mut u8);
        #[link_name = "get-blob"]
        pub fn get_blob(ret: *mut u8);
        /// 27 flat params > 16: the (address, request, option<context>, option<blob>) tuple is
        /// passed in memory; see `Outgoing`
        #[link_name = "send-request"]
        pub fn send_request(params: *const u8);
        #[link_name = "send-response"]
        pub fn send_response(
            inherit: i32,
            body_ptr: *const u8,
            body_len: usize,
            metadata_is_some: i32,
            metadata_ptr: *const u8,
            metadata_len: usize,
            caps_ptr: *const u8,
            caps_len: usize,
            blob_is_some: i32,
            mime_is_some: i32,
            mime_ptr: *const u8,
            mime_len: usize,
            bytes_ptr: *const u8,
            bytes_len: usize,
        );
    }
}

// ---- memory: the host allocates lowered results through cabi_realloc ----

#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        if old_size != 0 {
            dealloc(old, Layout::from_size_align_unchecked(old_size, align));
        }
        return align as *mut u8;
    }
    let p = if old_size == 0 {
        alloc(Layout::from_size_align_unchecked(new_size, align))
    } else {
        realloc(old, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if p.is_null() {
        core::arch::wasm32::unreachable();
    }
    p
}

#[inline]
unsafe fn rd32(p: *const u8, off: usize) -> usize {
    (p.add(off) as *const u32).read_unaligned() as usize
}

#[inline]
unsafe fn rd8(p: *const u8, off: usize) -> u8 {
    *p.add(off)
}

/// Frees a list/string of `len` elements of `size`/`align` whose (ptr, len) pair is at p+off.
unsafe fn free_list(p: *const u8, off: usize, size: usize, align: usize) {
    let len = rd32(p, off + 4);
    if len != 0 {
        dealloc(rd32(p, off) as *mut u8, Layout::from_size_align_unchecked(len * size, align));
    }
}

/// option<string> / option<list<u8>>: tag u8 at 0, (ptr, len) at 4
unsafe fn free_opt_bytes(p: *const u8, off: usize) {
    if rd8(p, off) != 0 {
        free_list(p, off + 4, 1, 1);
    }
}

/// address: node @0, process-name @8, package-name @16, publisher-node @24 (32 bytes, align 4)
unsafe fn free_address(p: *const u8) {
    for off in [0, 8, 16, 24] {
        free_list(p, off, 1, 1);
    }
}

/// list<capability>: capability = address @0 + params @32 (40 bytes, align 4)
unsafe fn free_caps(p: *const u8, off: usize) {
    let base = rd32(p, off) as *const u8;
    let len = rd32(p, off + 4);
    for i in 0..len {
        let c = base.add(i * 40);
        free_address(c);
        free_list(c, 32, 1, 1);
    }
    free_list(p, off, 40, 4);
}

/// message (64 bytes, align 8): tag u8 @0, payload @8.
///   request  @8: inherit @0, expects-response option<u64> @8 (value @16), body @24,
///                metadata option<string> @32, capabilities @44
///   response @8: inherit @0, body @4, metadata @12, capabilities @24; then option<context> @32
unsafe fn free_message(m: *const u8) {
    let b = m.add(8);
    if rd8(m, 0) == 0 {
        free_list(b, 24, 1, 1);
        free_opt_bytes(b, 32);
        free_caps(b, 44);
    } else {
        free_list(b, 4, 1, 1);
        free_opt_bytes(b, 12);
        free_caps(b, 24);
        free_opt_bytes(b, 32);
    }
}

/// option<lazy-load-blob> (24 bytes, align 4): tag @0, mime option<string> @4, bytes @16
unsafe fn free_opt_blob(p: *const u8) {
    if rd8(p, 0) != 0 {
        free_opt_bytes(p, 4);
        free_list(p, 16, 1, 1);
    }
}

fn print(verbosity: u8, s: &str) {
    unsafe { abi::print_to_terminal(verbosity as i32, s.as_ptr(), s.len()) }
}

unsafe fn bytes_at<'a>(p: *const u8, off: usize) -> &'a [u8] {
    let len = rd32(p, off + 4);
    if len == 0 {
        &[]
    } else {
        core::slice::from_raw_parts(rd32(p, off) as *const u8, len)
    }
}

fn tmp_write() {
    let msg = match std::env::var("TEMP_DIR") {
        Err(e) => format!("tmp write failed: TEMP_DIR: {e}"),
        Ok(dir) => match std::fs::write(std::path::Path::new(&dir).join("rust-echo.txt"), b"rust echo was here\n") {
            Ok(()) => "tmp write ok".to_string(),
            Err(e) => format!("tmp write failed: {e}"),
        },
    };
    print(0, &msg);
}

#[repr(C, align(8))]
struct RetArea([u8; 152]);

const HTTP_SERVER: &str = if cfg!(feature = "v1") { "http-server" } else { "http_server" };

/// An address as four owned strings (node, process, package, publisher).
#[derive(Clone)]
struct Addr([String; 4]);

impl Addr {
    /// `node@process:package:publisher`
    fn parse(s: &str) -> Option<Addr> {
        let (node, rest) = s.split_once('@')?;
        let mut it = rest.splitn(3, ':');
        let (p, k, u) = (it.next()?, it.next()?, it.next()?);
        Some(Addr([node.into(), p.into(), k.into(), u.into()]))
    }
    unsafe fn read(p: *const u8) -> Addr {
        let f = |off| String::from_utf8_lossy(bytes_at(p, off)).into_owned();
        Addr([f(0), f(8), f(16), f(24)])
    }
    fn http_server() -> Addr {
        Addr(["our".into(), HTTP_SERVER.into(), "distro".into(), "sys".into()])
    }
}

/// The in-memory argument tuple of send-request (128 bytes, align 8):
///   address @0 (4 x ptr,len); request @32: inherit @32, expects-response tag @40 / u64 @48,
///   body @56, metadata tag @64 / (ptr,len) @68, capabilities @76;
///   option<context> tag @88 / (ptr,len) @92; option<blob> tag @100, mime tag @104 / (ptr,len) @108,
///   bytes @116
#[repr(C, align(8))]
struct Outgoing([u8; 128]);

unsafe fn wr32(p: *mut u8, off: usize, v: usize) {
    (p.add(off) as *mut u32).write_unaligned(v as u32);
}

/// send-request with no metadata, capabilities or context; `blob` = (mime, bytes)
fn send_request(to: &Addr, expects: Option<u64>, body: &[u8], blob: Option<(Option<&[u8]>, &[u8])>) {
    let mut o = Outgoing([0; 128]);
    let p = o.0.as_mut_ptr();
    unsafe {
        for (i, s) in to.0.iter().enumerate() {
            wr32(p, i * 8, s.as_ptr() as usize);
            wr32(p, i * 8 + 4, s.len());
        }
        if let Some(secs) = expects {
            *p.add(40) = 1;
            (p.add(48) as *mut u64).write_unaligned(secs);
        }
        wr32(p, 56, body.as_ptr() as usize);
        wr32(p, 60, body.len());
        if let Some((mime, bytes)) = blob {
            *p.add(100) = 1;
            if let Some(m) = mime {
                *p.add(104) = 1;
                wr32(p, 108, m.as_ptr() as usize);
                wr32(p, 112, m.len());
            }
            wr32(p, 116, bytes.as_ptr() as usize);
            wr32(p, 120, bytes.len());
        }
        abi::send_request(p);
    }
}

fn send_response(body: &[u8], blob: Option<(Option<&[u8]>, &[u8])>) {
    let (has, mime, bytes) = match blob {
        Some((m, b)) => (1, m, b),
        None => (0, None, &[][..]),
    };
    unsafe {
        abi::send_response(
            0,
            body.as_ptr(),
            body.len(),
            0,
            core::ptr::null(),
            0,
            core::ptr::null(),
            0,
            has,
            mime.is_some() as i32,
            mime.map_or(core::ptr::null(), |m| m.as_ptr()),
            mime.map_or(0, |m| m.len()),
            bytes.as_ptr(),
            bytes.len(),
        )
    }
}

/// The current message's blob as (mime, bytes); the caller frees it with free_opt_blob.
unsafe fn with_blob<R>(f: impl FnOnce(Option<(Option<&[u8]>, &[u8])>) -> R) -> R {
    let mut area = [0u32; 6];
    let bp = area.as_mut_ptr() as *mut u8;
    abi::get_blob(bp);
    let r = if rd8(bp, 0) == 0 {
        f(None)
    } else {
        let mime = if rd8(bp, 4) != 0 { Some(bytes_at(bp, 8)) } else { None };
        f(Some((mime, bytes_at(bp, 16))))
    };
    free_opt_blob(bp);
    r
}

/// The raw text of a JSON string field `"key":"…"` (escapes left as they are), or of a number.
fn json_field<'a>(json: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let pat = format!("\"{key}\":");
    let at = json.windows(pat.len()).position(|w| w == pat.as_bytes())? + pat.len();
    let rest = &json[at..];
    if rest.first() == Some(&b'"') {
        let mut i = 1;
        while i < rest.len() && rest[i] != b'"' {
            i += if rest[i] == b'\\' { 2 } else { 1 };
        }
        Some(&rest[1..i.min(rest.len())])
    } else {
        let end = rest.iter().position(|c| !c.is_ascii_digit()).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// A flood run by this process (`flood <target> <n> <window>`): request/response pairs with
/// `window` in flight, or with window 0 fire-and-forget requests.
struct Flood {
    target: Addr,
    reply_to: Addr,
    left_to_send: u64,
    outstanding: u64,
    n: u64,
    window: u64,
    errors: u64,
    started: std::time::Instant,
}

impl Flood {
    fn pump(&mut self) {
        if self.window == 0 {
            // fire and forget: everything at once, nothing comes back
            while self.left_to_send > 0 {
                self.left_to_send -= 1;
                send_request(&self.target, None, b"x", None);
            }
            return;
        }
        while self.left_to_send > 0 && self.outstanding < self.window {
            self.left_to_send -= 1;
            self.outstanding += 1;
            send_request(&self.target, Some(5), b"x", None);
        }
    }
    fn done(&self) -> bool {
        self.left_to_send == 0 && self.outstanding == 0
    }
}

/// A request from http-server: answer HTTP requests, echo WebSocket frames.
unsafe fn from_http_server(our: &str, source: *const u8, body: &[u8]) {
    if body.starts_with(b"{\"Http\":") {
        let method = json_field(body, "method").unwrap_or(b"?");
        let url = json_field(body, "url").unwrap_or(b"?");
        let mut text = format!("hello from {our}\n").into_bytes();
        text.extend_from_slice(method);
        text.push(b' ');
        text.extend_from_slice(url);
        text.push(b'\n');
        send_response(br#"{"status":200,"headers":{"Content-Type":"text/plain"}}"#, Some((Some(b"text/plain"), &text)));
    } else if body.starts_with(b"{\"WebSocketPush\":") {
        // the server action has the same shape as the incoming push: send the body back as is
        let to = Addr::read(source);
        with_blob(|blob| send_request(&to, None, body, blob));
    }
}

/// result<tuple<address, message>, tuple<send-error, option<context>>> (152 bytes, align 8):
///   tag @0; ok: address @8, message @40; err: send-error @8 (kind @0, target @4,
///   message @40, lazy-load-blob @104), option<context> @136
unsafe fn serve(our: &str) {
    let mut ret = RetArea([0; 152]);
    let r = ret.0.as_mut_ptr();
    let mut flood: Option<Flood> = None;
    loop {
        abi::receive(r);
        if rd8(r, 0) != 0 {
            let e = r.add(8);
            if let Some(f) = flood.as_mut() {
                f.outstanding = f.outstanding.saturating_sub(1);
                f.errors += 1;
            }
            free_address(e.add(4));
            free_message(e.add(40));
            free_opt_blob(e.add(104));
            free_opt_bytes(r, 136);
        } else {
            let src = r.add(8);
            let msg = r.add(40);
            if rd8(msg, 0) == 0 {
                let req = msg.add(8);
                let body = bytes_at(req, 24);
                if bytes_at(src, 8) == HTTP_SERVER.as_bytes() && bytes_at(src, 16) == b"distro" {
                    from_http_server(our, src, body);
                } else if body == b"tmp-write" {
                    tmp_write();
                } else if body == b"exit" {
                    return;
                } else if body == b"trap" {
                    eprintln!("rust echo trap");
                    core::arch::wasm32::unreachable();
                } else if body == b"serve-http" {
                    // bind `/` (HTTP) and `/ws` (WebSocket, v0 needs `encrypted`); replies are printed
                    let hs = Addr::http_server();
                    send_request(&hs, Some(5), br#"{"Bind":{"path":"/","authenticated":false,"local_only":false,"cache":false}}"#, None);
                    let ws: &[u8] = if cfg!(feature = "v1") {
                        br#"{"WebSocketBind":{"path":"/ws","authenticated":false,"extension":false}}"#
                    } else {
                        br#"{"WebSocketBind":{"path":"/ws","authenticated":false,"encrypted":false,"extension":false}}"#
                    };
                    send_request(&hs, Some(5), ws, None);
                } else if let Some(args) = body.strip_prefix(b"flood ") {
                    let args = String::from_utf8_lossy(args).into_owned();
                    let parts: Vec<&str> = args.split(' ').collect();
                    match (parts.first().and_then(|a| Addr::parse(a)), parts.get(1).and_then(|n| n.parse::<u64>().ok())) {
                        (Some(target), Some(n)) => {
                            // window 0: fire-and-forget requests (no expects-response)
                            let window = parts.get(2).and_then(|w| w.parse().ok()).unwrap_or(1u64);
                            let mut f = Flood { target, reply_to: Addr::read(src), left_to_send: n, outstanding: 0, n, window, errors: 0, started: std::time::Instant::now() };
                            f.pump();
                            flood = Some(f);
                            // (a fire-and-forget flood is done already; reported below)
                        }
                        _ => print(0, "rust echo: bad flood command"),
                    }
                } else if store_command(our, src, body) {
                    // handled (and answered with a request back to the sender) by store.rs
                } else if let Some(reply) = sleep_command(body) {
                    if rd8(req, 8) != 0 {
                        send_response(&reply, None);
                    }
                } else if rd8(req, 8) != 0 {
                    with_blob(|blob| send_response(body, blob));
                }
            } else {
                let body = bytes_at(msg.add(8), 4);
                if let Some(f) = flood.as_mut() {
                    f.outstanding = f.outstanding.saturating_sub(1);
                } else if bytes_at(src, 8) == HTTP_SERVER.as_bytes() {
                    print(0, &format!("rust echo bind reply: {}", String::from_utf8_lossy(body)));
                }
            }
            free_address(src);
            free_message(msg);
        }
        if let Some(f) = flood.as_mut() {
            f.pump();
            if f.done() {
                let ms = f.started.elapsed().as_secs_f64() * 1000.0;
                let report = format!("flood done {} {} {:.3}", f.n, f.errors, ms);
                send_request(&f.reply_to, None, report.as_bytes(), None);
                flood = None;
            }
        }
    }
}

// ---- `poll` feature (the rust-poll-vN builds): a std sleep ----
//
// std::thread::sleep is preview1 `poll_oneoff`, which makes the reactor adapter import
// wasi:io/poll (and monotonic-clock): the import set of kit-built processes that sleep or time
// out. Body `sleep <ms>` sleeps and answers `slept <ms>`. Without the feature this is a no-op
// and the echo is unchanged.

#[cfg(feature = "poll")]
fn sleep_command(body: &[u8]) -> Option<Vec<u8>> {
    let ms: u64 = std::str::from_utf8(body.strip_prefix(b"sleep ")?).ok()?.parse().ok()?;
    std::thread::sleep(std::time::Duration::from_millis(ms));
    Some(format!("slept {ms}").into_bytes())
}

#[cfg(not(feature = "poll"))]
fn sleep_command(_body: &[u8]) -> Option<Vec<u8>> {
    None
}

// ---- `store` feature (the rust-store-vN builds): `store …` commands, see store.rs ----
// (kept below the echo's code so that the default build's panic locations, and so its bytes,
// do not change)

#[cfg(feature = "store")]
mod store;

#[cfg(feature = "store")]
unsafe fn store_command(our: &str, source: *const u8, body: &[u8]) -> bool {
    store::command(our, source, body)
}

#[cfg(not(feature = "store"))]
unsafe fn store_command(_our: &str, _source: *const u8, _body: &[u8]) -> bool {
    false
}

// ---- static constructors ----
//
// wasi-libc registers constructors (e.g. its preopen scan, which calls fd_prestat_get). With no
// crt1-reactor.o (cdylib) nothing references `__wasm_call_ctors`, and then wasm-ld wraps *every*
// export, cabi_realloc included, in `__wasm_call_ctors(); f(); __wasm_call_dtors()`: the ctors
// would rerun on each allocation the host makes while lowering a result, calling WASI imports from
// inside realloc (forbidden by the component model: `may_leave` is false) and re-registering the
// preopens each time. Referencing the symbol turns the wrappers off; the component export runs the
// ctors once, before anything else, like wit-bindgen's generated exports do.

extern "C" {
    fn __wasm_call_ctors();
}

fn run_ctors_once() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::Relaxed) {
        unsafe { __wasm_call_ctors() }
    }
}

/// export `init: func(our: string)`; the string was allocated through cabi_realloc
#[no_mangle]
pub unsafe extern "C" fn init(ptr: *mut u8, len: usize) {
    run_ctors_once();
    let our = String::from_raw_parts(ptr, len, len);
    print(0, &format!("rust echo ready {our}"));
    serve(&our);
}
