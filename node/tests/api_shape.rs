//! The API's shape at its edges, over raw connections: CORS preflights answered for pages on
//! other origins, and every error (axum's own rejections included) in the one JSON shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::crypto::Suite;
use lichen_contracts::testkit::TestChain;
use serde_json::json;

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
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            // An event stream has no end to read to: its own test follows it.
            if operation["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some()
            {
                operations += 1;
                continue;
            }
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

/// List endpoints come a page at a time: `limit` entries and a `next_cursor` until the last
/// page; the pages together are the whole list, in order (an agency's licences newest first).
#[test]
fn lists_come_a_page_at_a_time() {
    use lichen_contracts::codec::Encode;
    use lichen_contracts::tx::Payload;

    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start(&chain);
    let c = &node.client;
    let ids: Vec<String> = (0..5).map(|i| format!("PAGE-{i}")).collect();
    for (nonce, id) in ids.iter().enumerate() {
        let tx = common::signed(
            &chain,
            Payload::IssueLicence(common::draft(chain.suite, id)),
            nonce as u64 + 1,
            &["agency-a"],
        );
        let (status, body) = c
            .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = c
            .page("/v1/agencies/agency-a/licences", 2, cursor.as_deref())
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(
            page.items
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3);

    // The typed client reads the typed verification report.
    let presentation = c.get_bytes("/v1/licences/PAGE-0/presentation").unwrap();
    let report = c.verify(&presentation).unwrap();
    assert_eq!((report.verdict.as_str(), report.ok), ("VALID", true));
    assert_eq!(report.licence.map(|l| l.id).as_deref(), Some("PAGE-0"));

    // Agencies by id, one per page.
    let first = c.get_json("/v1/agencies?limit=1").unwrap();
    assert_eq!(first["items"][0]["id"], "agency-a");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = c
        .get_json(&format!("/v1/agencies?limit=1&cursor={cursor}"))
        .unwrap();
    assert_eq!(second["items"][0]["id"], "agency-b");
    assert!(second["next_cursor"].is_null());

    // Bad limits and cursors, and an unknown agency.
    let addr = node.running().http_addr;
    for (path, status, code) in [
        ("/v1/agencies?limit=0", 400, "bad_limit"),
        ("/v1/agencies?limit=501", 400, "bad_limit"),
        ("/v1/agencies/agency-a/licences?cursor=x", 400, "bad_cursor"),
        ("/v1/agencies/nobody/licences", 404, "not_found"),
    ] {
        let (got, _, body) = raw_request(addr, "GET", path, &[], b"");
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
    }
}

/// `GET /v1/commits` streams each committed block with its transactions (server-sent events),
/// and a refusal by the block builder as its own event.
#[test]
fn commits_stream_as_server_sent_events() {
    use std::io::{BufRead, BufReader, Write};

    use lichen_contracts::codec::Encode;
    use lichen_contracts::tx::Payload;

    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start(&chain);
    let addr = node.running().http_addr;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(stream, "GET /v1/commits HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    let mut content_type = None;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-type")
        {
            content_type = Some(v.trim().to_string());
        }
    }
    assert_eq!(content_type.as_deref(), Some("text/event-stream"));

    // An issue that commits, then a second issue of the same id: admitted (the pool does not
    // know the state) and refused when the block is built.
    let issue = |nonce| {
        common::signed(
            &chain,
            Payload::IssueLicence(common::draft(chain.suite, "STREAMED")),
            nonce,
            &["agency-a"],
        )
    };
    let first = issue(1);
    let (status, body) = node
        .client
        .post_bytes("/v1/transactions?wait=final", &first.to_bytes())
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let again = issue(2);
    match node
        .client
        .post_bytes("/v1/transactions?wait=final", &again.to_bytes())
    {
        Err(lichen_client::ClientError::Api { status, body, .. }) => {
            // The one error shape, nothing beside it.
            assert_eq!(
                (
                    status,
                    &body["error"]["code"],
                    body.as_object().map(|o| o.len())
                ),
                (422, &json!("tx_refused"), Some(1)),
                "{body}"
            );
        }
        other => panic!("the second issue must be refused by the block: {other:?}"),
    }

    // Chunked transfer: the events arrive among chunk-size lines; read data lines by event.
    let (mut committed, mut refused) = (false, false);
    let mut event = String::new();
    while !(committed && refused) {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .expect("events arrive within 20 s");
        assert!(n > 0, "the stream ended");
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let data: serde_json::Value = serde_json::from_str(data).unwrap();
            match event.as_str() {
                "block" if data["txs"][0] == first.id(chain.suite).to_hex() => {
                    assert!(data["height"].as_u64().unwrap() >= 1);
                    assert!(data["time"].is_string());
                    committed = true;
                }
                "refused" if data["id"] == again.id(chain.suite).to_hex() => {
                    assert!(!data["reason"].as_str().unwrap().is_empty());
                    refused = true;
                }
                _ => {}
            }
        }
    }

    // Stopping the node ends the stream (it does not hold the server for its grace period).
    let stopper = std::thread::spawn(move || node.stop());
    let mut stopping = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("the stream ends") == 0 {
            break;
        }
        stopping |= line.trim_end() == "event: stopping";
    }
    assert!(stopping, "the last event says the node stops");
    stopper.join().unwrap();
}
