//! QR codes of presentations and receipts: what `lichen presentation export --qr` and `lichen
//! evidence receipt --qr` write, read back with an independent decoder (rqrr, from the PNG
//! decoded by the png crate, or from the SVG's path), must give the document's exact bytes (as
//! raw bytes, or base64url in a scanner link's fragment, decoded here independently), and
//! those bytes must still verify. Also the error-correction level and version chosen by size, the
//! limit, the SVG's shape, and the real binary against a stand-in node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use lichen_cli::qr::{
    BYTES_MAX, BYTES_MAX_M, EcLevel, ImageFormat, QUIET_ZONE, QrCode, QrError, capacity, choose,
};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::presentation::{Document, Policy, Verdict, verify_bytes};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::{Payload, SignedTransaction};
use serde_json::Value;

mod common;
const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 24 * 60 * MINUTE_MS;
const DOC: &[u8] = b"%PDF-1.7 Business licence, Shenzhen Example Trading Co., Ltd. (test)";
const EXHIBIT: &[u8] = b"exhibit A: the signed contract (test)";
const ID: &str = "SZ-BL-2026-000001";

// ------------------------------------------------------------------------------- helpers

/// A 4-validator test chain with licence `ID` issued and the evidence `EXHIBIT` anchored.
fn chain(suite: Suite) -> TestChain {
    let mut c = TestChain::new(suite, 4);
    let draft = LicenceDraft {
        id: ID.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(DOC),
        holder_commitment: holder_commitment(suite, &[9; 32], "91440300MA5EXAMPLE"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: Some(GENESIS_TIME_MS + 365 * DAY_MS),
    };
    let issue = c.signed(Payload::IssueLicence(draft), "agency-a");
    commit(&mut c, vec![issue]);
    let anchor = c.signed(
        Payload::AnchorEvidence {
            hash: suite.digest(EXHIBIT),
            submitter: "court-1".into(),
            label: "exhibit A".into(),
        },
        "court-1",
    );
    commit(&mut c, vec![anchor]);
    c
}

fn commit(c: &mut TestChain, txs: Vec<SignedTransaction>) {
    let time = GENESIS_TIME_MS + (c.height() + 1) * MINUTE_MS;
    if let Err(e) = c.commit(txs, time) {
        panic!("block refused: {e}");
    }
}

/// A verifier's policy one minute after the chain's latest block.
fn fresh(c: &TestChain) -> Policy {
    Policy {
        now_ms: c.blocks.last().unwrap().header.time_ms + MINUTE_MS,
        proof_age_max_ms: DAY_MS,
    }
}

/// Deterministic bytes covering every value (a QR byte segment must carry any byte).
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A PNG as (width, height, 8-bit luma), through the png crate.
fn png_to_luma(png: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Grayscale, png::BitDepth::Eight)
    );
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

/// What rqrr reads from a luma image: the one code's version, level and bytes.
fn scan(w: usize, h: usize, luma: &[u8]) -> (usize, EcLevel, Vec<u8>) {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the image");
    let mut bytes = Vec::new();
    let meta = grids[0].decode_to(&mut bytes).unwrap();
    // rqrr reports the format bits' level field: M = 0, L = 1, H = 2, Q = 3.
    let ec = match meta.ecc_level {
        0 => EcLevel::M,
        1 => EcLevel::L,
        other => panic!("unexpected error-correction level field {other}"),
    };
    (meta.version.0, ec, bytes)
}

fn scan_png(png: &[u8]) -> (usize, EcLevel, Vec<u8>) {
    let (w, h, luma) = png_to_luma(png);
    scan(w, h, &luma)
}

/// The dark modules an SVG of ours draws, on its viewBox grid (one unit per module), read back
/// from the path's `M x y h n v1 h-n z` runs; and the viewBox side.
fn svg_modules(svg: &str) -> (usize, Vec<bool>) {
    let vb = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let side: usize = vb.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut grid = vec![false; side * side];
    for run in d.split('z').filter(|r| !r.is_empty()) {
        let rest = run.strip_prefix('M').unwrap();
        let (x, rest) = rest.split_once(' ').unwrap();
        let (y, rest) = rest.split_once('h').unwrap();
        let (n, rest) = rest.split_once('v').unwrap();
        let (x, y, n): (usize, usize, usize) =
            (x.parse().unwrap(), y.parse().unwrap(), n.parse().unwrap());
        assert_eq!(rest, format!("1h-{n}"), "run {run}");
        for i in x..x + n {
            assert!(!grid[y * side + i], "module {i},{y} drawn twice");
            grid[y * side + i] = true;
        }
    }
    (side, grid)
}

/// Rasterises a module grid at `px` pixels per module, for rqrr.
fn raster(side: usize, grid: &[bool], px: usize) -> (usize, Vec<u8>) {
    let w = side * px;
    let luma = (0..w * w)
        .map(|i| {
            let (x, y) = (i % w / px, i / w / px);
            if grid[y * side + x] { 0 } else { 255 }
        })
        .collect();
    (w, luma)
}

/// Round trip through the PNG and the SVG; the code and the bytes scanned from its PNG.
fn round_trip(bytes: &[u8]) -> (QrCode, Vec<u8>) {
    let code = QrCode::encode(bytes).unwrap();
    let (version, ec, decoded) = scan_png(&code.to_png().unwrap());
    assert_eq!(
        decoded, bytes,
        "the PNG's QR code must hold the exact bytes"
    );
    assert_eq!(version, usize::from(code.version()));
    assert_eq!(ec, code.ec_level());
    let (side, grid) = svg_modules(&code.to_svg());
    assert_eq!(side, code.side_modules());
    let (w, luma) = raster(side, &grid, 4);
    let (_, _, from_svg) = scan(w, w, &luma);
    assert_eq!(
        from_svg, bytes,
        "the SVG's QR code must hold the exact bytes"
    );
    (code, decoded)
}

// --------------------------------------------------------------------- (a) real documents

#[test]
fn presentations_and_receipts_of_a_4_validator_chain_round_trip_and_verify() {
    for suite in [Suite::Sm, Suite::Intl] {
        let c = chain(suite);
        let anchor = c.trust_anchor();

        let presentation = c.presentation(ID).to_bytes();
        let (code, scanned) = round_trip(&presentation);
        // Verify what the scanner read, not what we encoded.
        let report = verify_bytes(&anchor, &scanned, Some(Document::Bytes(DOC)), &fresh(&c));
        assert_eq!(report.verdict, Verdict::Valid, "{suite:?}: {report:?}");
        assert_eq!(code.ec_level(), EcLevel::M);
        eprintln!(
            "{suite:?} presentation: {} bytes -> version {}, EC {}, {}x{} modules, {} px/module, \
             {}x{} px, PNG {} bytes",
            presentation.len(),
            code.version(),
            code.ec_level().name(),
            code.width(),
            code.width(),
            code.module_px(),
            code.image_px(),
            code.image_px(),
            code.to_png().unwrap().len()
        );

        let receipt = c.receipt(&suite.digest(EXHIBIT)).to_bytes();
        let (code, scanned) = round_trip(&receipt);
        let report = verify_bytes(
            &anchor,
            &scanned,
            Some(Document::Bytes(EXHIBIT)),
            &fresh(&c),
        );
        assert_eq!(report.verdict, Verdict::Anchored, "{suite:?}: {report:?}");
        eprintln!(
            "{suite:?} receipt: {} bytes -> version {}, EC {}",
            receipt.len(),
            code.version(),
            code.ec_level().name()
        );
    }
}

// --------------------------------------------------------------- (b) level, version, limit

/// Byte-mode capacities (L, M) of versions 1-40 from the QR standard's table (ISO/IEC 18004).
const STANDARD_CAPACITY: [(usize, usize); 40] = [
    (17, 14),
    (32, 26),
    (53, 42),
    (78, 62),
    (106, 84),
    (134, 106),
    (154, 122),
    (192, 152),
    (230, 180),
    (271, 213),
    (321, 251),
    (367, 287),
    (425, 331),
    (458, 362),
    (520, 412),
    (586, 450),
    (644, 504),
    (718, 560),
    (792, 624),
    (858, 666),
    (929, 711),
    (1003, 779),
    (1091, 857),
    (1171, 911),
    (1273, 997),
    (1367, 1059),
    (1465, 1125),
    (1528, 1190),
    (1628, 1264),
    (1732, 1370),
    (1840, 1452),
    (1952, 1538),
    (2068, 1628),
    (2188, 1722),
    (2303, 1809),
    (2431, 1911),
    (2563, 1989),
    (2699, 2099),
    (2809, 2213),
    (2953, 2331),
];

#[test]
fn capacities_match_the_standard() {
    for (i, &(l, m)) in STANDARD_CAPACITY.iter().enumerate() {
        let v = i as u8 + 1;
        assert_eq!(capacity(v, EcLevel::L), Some(l), "version {v} L");
        assert_eq!(capacity(v, EcLevel::M), Some(m), "version {v} M");
    }
    assert_eq!(capacity(0, EcLevel::M), None);
    assert_eq!(capacity(41, EcLevel::L), None);
    assert_eq!(BYTES_MAX, 2953);
    assert_eq!(BYTES_MAX_M, 2331);
}

#[test]
fn level_and_version_by_size() {
    // M while it fits (smallest version), then L (smallest version again), then an error.
    let expected: [(usize, u8, EcLevel); 8] = [
        (1, 1, EcLevel::M),
        (800, 23, EcLevel::M),
        (1_000, 26, EcLevel::M),
        (1_600, 33, EcLevel::M),
        (2_300, 40, EcLevel::M),
        (2_331, 40, EcLevel::M),
        (2_332, 36, EcLevel::L),
        (2_900, 40, EcLevel::L),
    ];
    for (len, version, ec) in expected {
        assert_eq!(choose(len).unwrap(), (version, ec), "{len} bytes");
    }
    assert_eq!(choose(BYTES_MAX).unwrap(), (40, EcLevel::L));
    // Encoded and scanned back, with bytes of every value.
    for (i, len) in [800usize, 1_600, 2_300, 2_900].into_iter().enumerate() {
        let bytes = pseudo_random(len, 0x5eed + i as u64);
        let (code, _) = round_trip(&bytes);
        let (version, ec) = choose(len).unwrap();
        assert_eq!((code.version(), code.ec_level()), (version, ec));
        assert_eq!(code.width(), 17 + 4 * usize::from(version));
        assert!((4..=8).contains(&code.module_px()));
        assert!(
            code.image_px() <= 1_000,
            "{len} bytes: {} px",
            code.image_px()
        );
    }
    for len in [BYTES_MAX + 1, 4_000] {
        let err = QrCode::encode(&vec![0xA5; len]).unwrap_err();
        assert!(
            matches!(err, QrError::TooLarge { len: l } if l == len),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&len.to_string()) && message.contains("2953"),
            "the error must give the size and the limit: {message}"
        );
    }
}

#[test]
fn image_sizes() {
    // A ~1,000-byte presentation: version 26 at M, 121 modules + 8 of quiet zone = 129 modules,
    // 7 px each = 903 px; version 40 (the largest): 185 modules, 5 px each = 925 px; small codes
    // stop at 8 px per module.
    let code = QrCode::encode(&pseudo_random(1_000, 7)).unwrap();
    assert_eq!((code.side_modules(), code.module_px()), (129, 7));
    assert_eq!(code.image_px(), 903);
    let code = QrCode::encode(&pseudo_random(2_900, 7)).unwrap();
    assert_eq!((code.side_modules(), code.module_px()), (185, 5));
    assert_eq!(code.image_px(), 925);
    let small = QrCode::encode(b"lichen").unwrap();
    assert_eq!((small.side_modules(), small.module_px()), (29, 8));
    // The PNG is that size, with a white quiet zone of 4 modules and a dark finder corner.
    let code = QrCode::encode(&pseudo_random(1_000, 7)).unwrap();
    let (w, h, luma) = png_to_luma(&code.to_png().unwrap());
    assert_eq!((w, h), (903, 903));
    let zone = QUIET_ZONE * code.module_px() as usize;
    for i in 0..w {
        for j in 0..zone {
            assert_eq!(luma[j * w + i], 255, "top quiet zone at {i},{j}");
            assert_eq!(luma[i * w + j], 255, "left quiet zone at {j},{i}");
            assert_eq!(luma[(h - 1 - j) * w + i], 255, "bottom quiet zone");
            assert_eq!(luma[i * w + (w - 1 - j)], 255, "right quiet zone");
        }
    }
    assert_eq!(
        luma[zone * w + zone],
        0,
        "the finder pattern's corner is dark"
    );
}

// ---------------------------------------------------------------------------- (c) the SVG

#[test]
fn svg_is_well_formed_and_draws_the_symbol() {
    for len in [1usize, 800, 2_900] {
        let code = QrCode::encode(&pseudo_random(len, 11)).unwrap();
        let svg = code.to_svg();
        let side = code.width() + 2 * QUIET_ZONE;
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg:.80}"
        );
        assert!(svg.ends_with("</svg>\n"));
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        assert!(svg.contains(&format!(
            "width=\"{px}\" height=\"{px}\"",
            px = code.image_px()
        )));
        // Exactly three elements: the root, a white background, one path; all closed.
        let tags: Vec<&str> = svg
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
            .collect();
        assert_eq!(tags.len(), 4, "{tags:?}");
        assert!(tags[0].starts_with("svg ") && !tags[0].ends_with('/'));
        assert!(tags[1].starts_with("rect ") && tags[1].ends_with('/'));
        assert!(tags[2].starts_with("path ") && tags[2].ends_with('/'));
        assert_eq!(tags[3], "/svg");
        assert_eq!(svg.matches('"').count() % 2, 0);
        // The path draws exactly the dark modules, inside the quiet zone.
        let (vb, grid) = svg_modules(&svg);
        assert_eq!(vb, side);
        for y in 0..side {
            for x in 0..side {
                let inside = (QUIET_ZONE..QUIET_ZONE + code.width()).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + code.width()).contains(&y);
                let expected = inside && code.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
                assert_eq!(grid[y * side + x], expected, "module {x},{y}");
            }
        }
    }
}

#[test]
fn formats_by_file_name() {
    assert_eq!(
        ImageFormat::from_path(Path::new("a/b.png")).unwrap(),
        ImageFormat::Png
    );
    assert_eq!(
        ImageFormat::from_path(Path::new("B.SVG")).unwrap(),
        ImageFormat::Svg
    );
    for bad in ["out.pres", "out", "png", "out.jpg"] {
        let err = ImageFormat::from_path(Path::new(bad)).unwrap_err();
        assert!(err.to_string().contains(".png or .svg"), "{bad}: {err}");
    }
}

// ------------------------------------------------------------- the real binary, end to end

/// A stand-in node: answers GET `path` with the bytes `routes` holds for it, 404 otherwise.
fn serve(routes: BTreeMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split(' ').nth(1).unwrap_or("").to_string();
            let (status, body) = match routes.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => (
                    "404 Not Found",
                    br#"{"error":{"code":"not_found","message":"no such thing"}}"#.to_vec(),
                ),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// base64url without padding (RFC 4648 section 5), written out here rather than taken from the
/// CLI's own dependency.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn unbase64url(text: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text {
        bits = bits << 6 | ALPHABET.iter().position(|a| a == c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

fn lichen(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::lichen_in(dir, &[], args)
}

#[test]
fn cli_writes_qr_codes_of_what_the_node_serves() {
    let c = chain(Suite::Sm);
    let presentation = c.presentation(ID).to_bytes();
    let hash = Suite::Sm.digest(EXHIBIT);
    let receipt = c.receipt(&hash).to_bytes();
    let too_big = pseudo_random(BYTES_MAX + 1, 3);
    let url = serve(BTreeMap::from([
        (
            format!("/v1/licences/{ID}/presentation"),
            presentation.clone(),
        ),
        ("/v1/licences/BIG/presentation".to_string(), too_big),
        (format!("/v1/evidence/{hash}/receipt"), receipt.clone()),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // -o and --qr together: the file holds the bytes, the QR code a link to the node's scanner
    // page with the same bytes in its fragment (base64url, no padding).
    let link =
        |scanner: &str, bytes: &[u8]| format!("{scanner}#p={}", base64url(bytes)).into_bytes();
    let (code, stdout, stderr) = lichen(
        d,
        &[
            "presentation",
            "export",
            ID,
            "--node",
            &url,
            "-o",
            "p.pres",
            "--qr",
            "p.png",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let presentation_link = link(&format!("{url}/scanner/"), &presentation);
    let (_, level) = choose(presentation_link.len()).unwrap();
    assert!(
        stdout.contains("a link to ")
            && stdout.contains(&format!("error correction {}", level.name())),
        "{stdout}"
    );
    assert_eq!(std::fs::read(d.join("p.pres")).unwrap(), presentation);
    let (_, ec, scanned) = scan_png(&std::fs::read(d.join("p.png")).unwrap());
    assert_eq!((ec, &scanned), (level, &presentation_link));
    assert_eq!(
        unbase64url(&scanned[scanned.len() - base64url(&presentation).len()..]),
        presentation
    );

    // --qr alone, SVG, JSON output, another scanner page.
    let scanner = "https://verify.example.gov.cn/scan";
    let (code, stdout, stderr) = lichen(
        d,
        &[
            "--json",
            "presentation",
            "export",
            ID,
            "--node",
            &url,
            "--qr",
            "p.svg",
            "--scanner-url",
            scanner,
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let content = link(scanner, &presentation);
    let expected = QrCode::encode(&content).unwrap();
    assert_eq!(v["size"], presentation.len());
    assert!(v.get("file").is_none());
    assert_eq!(v["qr"]["format"], "svg");
    assert_eq!(v["qr"]["form"], "link");
    assert_eq!(v["qr"]["scanner_url"], scanner);
    assert_eq!(v["qr"]["bytes"], content.len());
    assert_eq!(v["qr"]["version"], expected.version());
    assert_eq!(v["qr"]["ec_level"], expected.ec_level().name());
    assert_eq!(v["qr"]["modules"], expected.width());
    assert_eq!(v["qr"]["image_px"], expected.image_px());
    let svg = std::fs::read_to_string(d.join("p.svg")).unwrap();
    assert_eq!(svg, expected.to_svg());

    // The evidence receipt, as raw bytes (--qr-binary).
    let (code, stdout, stderr) = lichen(
        d,
        &[
            "--json",
            "evidence",
            "receipt",
            &hash.to_hex(),
            "--node",
            &url,
            "--qr",
            "r.png",
            "--qr-binary",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&v["qr"]["form"], &v["qr"]["scanner_url"]),
        (&Value::from("binary"), &Value::Null)
    );
    let (_, _, scanned) = scan_png(&std::fs::read(d.join("r.png")).unwrap());
    assert_eq!(scanned, receipt);

    // Too large for one QR code: a clear error with the limit, and nothing written; as a link,
    // the error points at the smaller forms.
    for (form, expect) in [("--qr-binary", "2954 bytes do not fit"), ("", "--compact")] {
        let mut args = vec![
            "presentation",
            "export",
            "BIG",
            "--node",
            &url,
            "-o",
            "big.pres",
            "--qr",
            "big.png",
        ];
        if !form.is_empty() {
            args.push(form);
        }
        let (code, stdout, stderr) = lichen(d, &args);
        assert_ne!(code, 0, "{stdout}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(!d.join("big.pres").exists() && !d.join("big.png").exists());
    }
    // A scanner URL a link cannot use fails before any request.
    for bad in [
        "ftp://example.org/",
        "https://example.org/#x",
        "https://exa mple.org/",
    ] {
        let (code, _, stderr) = lichen(
            d,
            &[
                "presentation",
                "export",
                ID,
                "--node",
                "http://127.0.0.1:1",
                "--qr",
                "x.png",
                "--scanner-url",
                bad,
            ],
        );
        assert_ne!(code, 0, "{bad}");
        assert!(stderr.contains("scanner URL"), "{bad}: {stderr}");
        assert!(!d.join("x.png").exists());
    }

    // An unknown image format fails before any request; neither -o nor --qr is a usage error.
    let (code, _, stderr) = lichen(
        d,
        &[
            "presentation",
            "export",
            ID,
            "--node",
            "http://127.0.0.1:1",
            "--qr",
            "p.jpg",
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains(".png or .svg"), "{stderr}");
    let (code, _, stderr) = lichen(d, &["presentation", "export", ID, "--node", &url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--out") || stderr.contains("--qr"),
        "{stderr}"
    );
}
