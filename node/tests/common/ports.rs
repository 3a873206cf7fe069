//! Ports for nodes the tests and benchmarks start on 127.0.0.1 and must name before they bind
//! (every validator is told the others' addresses up front).
//!
//! Binding port 0 gives a port from the kernel's ephemeral range, which the kernel also hands
//! out as the source port of outgoing connections: between the check and the node's own bind, a
//! validator dialling one not started yet (or any other process) could take it. CI once failed
//! on exactly that (`Bind { addr: "/ip4/127.0.0.1/tcp/45245" }`). These ports are below that
//! range, where only an explicit bind can land, and each process walks them from its own
//! starting point so concurrent test binaries rarely meet.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out: above the well-known and registered services most machines run.
const PORT_LOW: u32 = 20_000;
/// Where the kernel's ephemeral range starts when `/proc` does not say (Linux's default).
const EPHEMERAL_LOW_DEFAULT: u32 = 32_768;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The first port of the kernel's ephemeral range.
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .filter(|&low| low > PORT_LOW + 1_000)
        .unwrap_or(EPHEMERAL_LOW_DEFAULT)
}

/// A port on 127.0.0.1 nothing listens on now, below the ephemeral range, not handed out before
/// by this process.
pub fn free_port() -> u16 {
    let span = ephemeral_low() - PORT_LOW;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let port = PORT_LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = u16::try_from(port).expect("ports below the ephemeral range fit in u16");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 between {PORT_LOW} and the ephemeral range");
}
