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

/// result<tuple<address, message>, tuple<send-error, option<context>>> (152 bytes, align 8):
///   tag @0; ok: address @8, message @40; err: send-error @8 (kind @0, target @4,
///   message @40, lazy-load-blob @104), option<context> @136
unsafe fn serve() {
    let mut ret = RetArea([0; 152]);
    let r = ret.0.as_mut_ptr();
    loop {
        abi::receive(r);
        if rd8(r, 0) != 0 {
            let e = r.add(8);
            free_address(e.add(4));
            free_message(e.add(40));
            free_opt_blob(e.add(104));
            free_opt_bytes(r, 136);
            continue;
        }
        let msg = r.add(40);
        if rd8(msg, 0) == 0 {
            let req = msg.add(8);
            let body = bytes_at(req, 24);
            if body == b"exit" {
                return;
            }
            if body == b"trap" {
                eprintln!("rust echo trap");
                core::arch::wasm32::unreachable();
            }
            if rd8(req, 8) != 0 {
                let mut blob = [0u8; 24];
                let bp = blob.as_mut_ptr();
                abi::get_blob(bp);
                let has_blob = rd8(bp, 0) as i32;
                let mime_some = rd8(bp, 4) as i32;
                abi::send_response(
                    0,
                    body.as_ptr(),
                    body.len(),
                    0,
                    core::ptr::null(),
                    0,
                    core::ptr::null(),
                    0,
                    has_blob,
                    if has_blob != 0 { mime_some } else { 0 },
                    if has_blob != 0 && mime_some != 0 { rd32(bp, 8) as *const u8 } else { core::ptr::null() },
                    if has_blob != 0 && mime_some != 0 { rd32(bp, 12) } else { 0 },
                    if has_blob != 0 { rd32(bp, 16) as *const u8 } else { core::ptr::null() },
                    if has_blob != 0 { rd32(bp, 20) } else { 0 },
                );
                free_opt_blob(bp);
            }
        }
        free_address(r.add(8));
        free_message(msg);
    }
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
    tmp_write();
    drop(our);
    serve();
}
