//! Process-wide memory settings, for the binaries that run nodes (the `lichen` command and the
//! benchmarks): they choose the allocator, so they call this first.

/// Turns transparent huge pages off for this process: Linux's `prctl(PR_SET_THP_DISABLE)`,
/// checked by the kernel at every later page fault, inherited by child processes; nothing on
/// other systems.
///
/// Why: mimalloc asks for huge pages for its arenas and gives back memory unused for a second.
/// On a kernel that grants huge pages on request (`transparent_hugepage/enabled` = `madvise`,
/// Debian's default) every page it touches again is then a 2 MiB page the kernel must zero
/// first: in a loaded four-validator cluster, 29% of all CPU went to `clear_page_erms`, and
/// turning huge pages off raised it from ~1,300 to ~2,000 transactions per second
/// (BENCHMARKS.md, "A spinning driver, verification on the async worker, huge pages").
pub fn disable_transparent_huge_pages() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::thread::disable_transparent_huge_pages(true)?;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn huge_pages_can_be_turned_off() {
        super::disable_transparent_huge_pages().unwrap();
        assert!(rustix::thread::transparent_huge_pages_are_disabled().unwrap());
    }
}
