//! Where a VU's bytes go: QuickJS's own accounting plus the resident pages of the coroutine stack.
//! Printed for VU 1 when `LOADGATE_VU_MEMORY` is set (used by the benchmark notes).

use rquickjs::{Ctx, qjs};

/// Resident bytes of `[start, end)` (page-aligned), from `mincore`.
pub fn resident_bytes(start: usize, end: usize) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let start = start & !(page - 1);
    let len = end.saturating_sub(start);
    let pages = len.div_ceil(page);
    let mut vec = vec![0u8; pages];
    // SAFETY: `start..start+len` is the coroutine stack mapping (owned by the caller's coroutine)
    // and `vec` has one byte per page, as mincore requires.
    let rc = unsafe { libc::mincore(start as *mut libc::c_void, len, vec.as_mut_ptr()) };
    if rc != 0 {
        return 0;
    }
    vec.iter().filter(|b| **b & 1 == 1).count() * page
}

/// Whether the report is wanted.
pub fn wanted() -> bool {
    std::env::var_os("LOADGATE_VU_MEMORY").is_some()
}

/// Prints one VU's memory breakdown to stderr.
pub fn report(when: &str, ctx: &Ctx<'_>, stack: (usize, usize)) {
    let mut m = std::mem::MaybeUninit::<qjs::JSMemoryUsage>::zeroed();
    // SAFETY: the context belongs to a live runtime on this thread; JS_ComputeMemoryUsage only
    // reads the runtime's accounting and fills `m`.
    let m = unsafe {
        let rt = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
        qjs::JS_ComputeMemoryUsage(rt, m.as_mut_ptr());
        m.assume_init()
    };
    eprintln!(
        "VU memory ({when}): quickjs malloc {} B in {} blocks (used {} B); atoms {} ({} B), strings {} ({} B), objects {} ({} B), properties {} B, shapes {} ({} B), js functions {} ({} B + {} B bytecode), c functions {}; coroutine stack resident {} B",
        m.malloc_size,
        m.malloc_count,
        m.memory_used_size,
        m.atom_count,
        m.atom_size,
        m.str_count,
        m.str_size,
        m.obj_count,
        m.obj_size,
        m.prop_size,
        m.shape_count,
        m.shape_size,
        m.js_func_count,
        m.js_func_size,
        m.js_func_code_size,
        m.c_func_count,
        resident_bytes(stack.0, stack.1),
    );
}

/// Runs QuickJS's cycle collector now.
pub fn collect_garbage(ctx: &Ctx<'_>) {
    // SAFETY: the context belongs to a live runtime on this thread and no Rust code holds
    // references into the heap that the collector could invalidate (values are reference counted).
    unsafe {
        let rt = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
        qjs::JS_RunGC(rt);
    }
}
