//! The scanner page a node serves at `/scanner/`: only the servable files of its directory, from
//! memory, with their content types; the node's own `genesis.json` added; names that are not
//! files of the page (traversal, hidden files, other extensions) are 404 in the JSON error shape;
//! a node without a page says how to get one; a directory without `index.html` is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::crypto::Suite;
use lichen_contracts::testkit::TestChain;
use lichen_node::api::{ScannerSite, ScannerSiteError};
use lichen_node::service::DataDir;

mod common;
use common::{TestNode, header};

fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    common::raw_request(addr, "GET", path, &[], b"")
}

/// A JSON error body's code (the body may be chunked: take the JSON object inside).
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let start = text.find('{').unwrap();
    let end = text.rfind('}').unwrap();
    let v: serde_json::Value = serde_json::from_str(&text[start..=end]).unwrap();
    v["error"]["code"].as_str().unwrap().to_string()
}

#[test]
fn a_node_serves_the_scanner_page_from_memory_with_its_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("index.html"),
        "<!doctype html><title>scanner</title>",
    )
    .unwrap();
    std::fs::write(d.join("scanner.js"), "export {};").unwrap();
    std::fs::write(d.join("lichen_verifier_wasm_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(d.join("notes.txt"), "not part of the page").unwrap();
    std::fs::write(d.join(".hidden.js"), "secret").unwrap();
    std::fs::create_dir(d.join("sub.js")).unwrap();
    let site = ScannerSite::load(d).unwrap();
    assert_eq!(
        site.names().collect::<Vec<_>>(),
        ["index.html", "lichen_verifier_wasm_bg.wasm", "scanner.js"]
    );

    let chain = TestChain::new(Suite::Sm, 1);
    let node = TestNode::start_with(&chain, DataDir::Memory, |o| o.scanner = Some(site));
    let addr = node.running().http_addr;

    let (status, headers, body) = get(addr, "/scanner/");
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert!(String::from_utf8_lossy(&body).contains("<title>scanner</title>"));
    let (status, headers, _) = get(addr, "/scanner/lichen_verifier_wasm_bg.wasm");
    assert_eq!(
        (status, header(&headers, "content-type")),
        (200, Some("application/wasm"))
    );
    let (status, headers, _) = get(addr, "/scanner");
    assert_eq!(
        (status, header(&headers, "location")),
        (308, Some("/scanner/"))
    );

    // The node's genesis, from which the page makes its trust anchor.
    let (status, _, body) = get(addr, "/scanner/genesis.json");
    assert_eq!(status, 200);
    let genesis = lichen_views::genesis_from_json_str(std::str::from_utf8(&body).unwrap()).unwrap();
    assert_eq!(genesis.hash(), chain.genesis.hash());

    for path in [
        "/scanner/notes.txt",
        "/scanner/.hidden.js",
        "/scanner/sub.js",
        "/scanner/..%2Fsecret.js",
        "/scanner/missing.js",
    ] {
        let (status, _, body) = get(addr, path);
        assert_eq!(status, 404, "{path}");
        assert_eq!(error_code(&body), "not_found", "{path}");
    }
    node.stop();

    // A node without a page says so, and how to get one.
    let node = TestNode::start(&chain);
    let (status, _, body) = get(node.running().http_addr, "/scanner/");
    assert_eq!(status, 404);
    assert_eq!(error_code(&body), "no_scanner");
    node.stop();

    // A directory that is not a built page is refused when the node starts.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        ScannerSite::load(empty.path()),
        Err(ScannerSiteError::NoIndex { .. })
    ));
    assert!(matches!(
        ScannerSite::load(&empty.path().join("absent")),
        Err(ScannerSiteError::Read { .. })
    ));
}
