//! The API's shape at its edges, over raw connections: CORS preflights answered for pages on
//! other origins, and every error (axum's own rejections included) in the one JSON shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::crypto::Suite;
use lichen_contracts::testkit::TestChain;

mod common;
use common::{TestNode, header, raw_request};

/// A page on another origin may POST JSON to `/v1/verify`: the browser's preflight gets the
/// methods and headers it asks for, without a request slot; the answer itself carries
/// `Access-Control-Allow-Origin`.
#[test]
fn a_page_on_another_origin_may_post_json() {
    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start(&chain);
    let addr = node.running().http_addr;
    let (status, headers, _) = raw_request(
        addr,
        "OPTIONS",
        "/v1/verify",
        &[
            ("Origin", "https://scanner.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    let methods = header(&headers, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed = header(&headers, "access-control-allow-headers").unwrap();
    assert!(allowed.contains("content-type"), "{allowed}");
    assert!(header(&headers, "access-control-max-age").is_some());

    let (status, headers, body) = raw_request(
        addr,
        "POST",
        "/v1/verify",
        &[
            ("Origin", "https://scanner.example"),
            ("Content-Type", "application/json"),
        ],
        br#"{"presentation": "00"}"#,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["verdict"], "TAMPERED");

    // The trust package's checkpoint header is readable from such a page.
    let (_, headers, _) = raw_request(
        addr,
        "GET",
        "/v1/status",
        &[("Origin", "https://scanner.example")],
        b"",
    );
    let exposed = header(&headers, "access-control-expose-headers").unwrap();
    assert!(exposed.contains("x-lichen-checkpoint-height"), "{exposed}");
}

/// Every error is `{"error": {"code", "message"}}` with a 4xx for the client's mistakes:
/// axum's own rejections (a path that is not UTF-8, a height that is not a number) included.
#[test]
fn every_error_is_json() {
    let chain = TestChain::new(Suite::Sm, 1);
    let node = TestNode::start(&chain);
    let addr = node.running().http_addr;
    // method, path, headers, body, the status and error code expected
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [u8],
        u16,
        &'a str,
    );
    let cases: [Case; 6] = [
        ("GET", "/v1/licences/%FF%FE", &[], b"", 400, "bad_request"),
        (
            "GET",
            "/v1/blocks/not-a-height",
            &[],
            b"",
            400,
            "bad_height",
        ),
        ("GET", "/v1/blocks?from=x", &[], b"", 400, "bad_query"),
        ("GET", "/v1/no-such-thing", &[], b"", 404, "no_such_route"),
        ("DELETE", "/v1/status", &[], b"", 405, "method_not_allowed"),
        (
            "POST",
            "/v1/verify",
            &[("Content-Type", "application/json")],
            b"{not json",
            400,
            "bad_json",
        ),
    ];
    for (method, path, headers, body, want_status, want_code) in cases {
        let (status, response_headers, body) = raw_request(addr, method, path, headers, body);
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, want_status, "{method} {path}: {text}");
        assert_eq!(
            header(&response_headers, "content-type"),
            Some("application/json"),
            "{method} {path}: {text}"
        );
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["error"]["code"], want_code, "{method} {path}: {text}");
        assert!(
            !error["error"]["message"].as_str().unwrap().is_empty(),
            "{method} {path}"
        );
    }
}

/// `GET /v1/openapi.json` is an OpenAPI 3.1 document, and every operation it lists is served
/// (a request to each reaches its handler: no `no_such_route`, no 405).
#[test]
fn the_openapi_document_lists_served_operations() {
    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start(&chain);
    let addr = node.running().http_addr;
    let (status, headers, body) = raw_request(addr, "GET", "/v1/openapi.json", &[], b"");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/v1/verify",
        "/v1/transactions",
        "/v1/openapi.json",
        "/health",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{height}", "1")
            .replace("{id}", "X")
            .replace("{hash}", &"0".repeat(64))
            .replace("{name}", "index.html");
        for method in item.as_object().unwrap().keys() {
            let method = method.to_ascii_uppercase();
            let (status, _, body) = raw_request(addr, &method, &concrete, &[], b"");
            let text = String::from_utf8_lossy(&body);
            assert!(
                status != 405 && !text.contains("no_such_route"),
                "{method} {path} is documented but not served: {status} {text}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 20, "{operations} operations");
}
