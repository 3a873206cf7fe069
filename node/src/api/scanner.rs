//! The scanner page at `/scanner/`: a node can serve the static front-desk page (the WASM
//! verifier, its script, styles, service worker and manifest), so that the link in a QR code
//! (`<node>/scanner/#p=<base64url>`) opens it on any phone. The browser never sends the
//! fragment, so the presentation itself does not reach the node.
//!
//! The files are read once at start into memory (a handful of files, bounded in count and bytes):
//! no request touches the file system, and no path from a request becomes a file path. The node
//! adds its own `genesis.json`, from which the page derives the trust anchor and the display
//! names; the page shows the anchor's fingerprint for the operator to compare with the one the
//! chain's council published, since the node that served the page is not trusted for it.

use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::CommonErrors;
use super::{ApiError, AppState};
use lichen_views::api::ErrorResponse;

/// The most files a scanner directory may hold.
pub const SCANNER_FILES_MAX: usize = 32;
/// The most bytes all of them may hold together.
pub const SCANNER_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// The longest file name served.
pub const SCANNER_NAME_BYTES_MAX: usize = 64;

/// Why a scanner directory cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ScannerSiteError {
    #[error("cannot read the scanner directory {dir}: {reason}")]
    Read { dir: String, reason: String },
    #[error(
        "the scanner directory {dir} has no index.html (build the page with ./scripts/build-wasm.sh)"
    )]
    NoIndex { dir: String },
    #[error("the scanner directory {dir} holds more than {SCANNER_FILES_MAX} files")]
    TooManyFiles { dir: String },
    #[error("the scanner directory {dir} holds more than {SCANNER_BYTES_MAX} bytes")]
    TooLarge { dir: String },
}

/// The page's files, in memory, by name.
#[derive(Clone, Debug, Default)]
pub struct ScannerSite {
    files: BTreeMap<String, (&'static str, Bytes)>,
}

/// The content type of a file the page is made of, by extension; other files are not served.
fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "bin" => "application/octet-stream",
        _ => return None,
    })
}

/// A name a request may ask for: letters, digits, `.`, `-`, `_`, not starting with a dot.
fn servable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= SCANNER_NAME_BYTES_MAX
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        && content_type(name).is_some()
}

impl ScannerSite {
    /// Reads the servable files directly in `dir` (subdirectories and other files are left out).
    pub fn load(dir: &Path) -> Result<Self, ScannerSiteError> {
        let shown = dir.display().to_string();
        let read_error = |e: std::io::Error| ScannerSiteError::Read {
            dir: shown.clone(),
            reason: e.to_string(),
        };
        let mut site = ScannerSite::default();
        let mut total: u64 = 0;
        for entry in std::fs::read_dir(dir).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !servable_name(&name) || !entry.file_type().map_err(read_error)?.is_file() {
                continue;
            }
            if site.files.len() == SCANNER_FILES_MAX {
                return Err(ScannerSiteError::TooManyFiles { dir: shown });
            }
            total = total.saturating_add(entry.metadata().map_err(read_error)?.len());
            if total > SCANNER_BYTES_MAX {
                return Err(ScannerSiteError::TooLarge { dir: shown });
            }
            let bytes = std::fs::read(entry.path()).map_err(read_error)?;
            site.insert(&name, bytes);
        }
        if !site.files.contains_key("index.html") {
            return Err(ScannerSiteError::NoIndex { dir: shown });
        }
        Ok(site)
    }

    /// Adds (or replaces) a file; a name that is not servable is ignored.
    pub fn insert(&mut self, name: &str, bytes: impl Into<Bytes>) {
        if let Some(kind) = content_type(name).filter(|_| servable_name(name)) {
            self.files.insert(name.to_string(), (kind, bytes.into()));
        }
    }

    /// The names served, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    fn response(&self, name: &str) -> Response {
        let Some((kind, bytes)) = self.files.get(name) else {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("the scanner page has no file '{}'", name.escape_debug()),
            )
            .into_response();
        };
        let mut response = (StatusCode::OK, bytes.clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        // The page's service worker keeps the offline copy; the browser asks again each time
        // it checks for an update, so a new page reaches desks on their next load online.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

fn not_served() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_scanner",
        "this node serves no scanner page: build it with ./scripts/build-wasm.sh and start the \
         node with [http] scanner_dir (lichen dev finds verifier-wasm/pkg/site by itself)",
    )
    .into_response()
}

#[utoipa::path(
    get,
    path = "/scanner",
    tag = "scanner",
    summary = "The scanner page (a redirect to /scanner/)",
    responses(
        (status = 308, description = "To /scanner/"),
        CommonErrors,
    )
)]
pub(super) async fn scanner_redirect() -> Redirect {
    Redirect::permanent("/scanner/")
}

#[utoipa::path(
    get,
    path = "/scanner/",
    tag = "scanner",
    summary = "The scanner page",
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn scanner_index(State(state): State<AppState>) -> Response {
    match &state.scanner {
        Some(site) => site.response("index.html"),
        None => not_served(),
    }
}

#[utoipa::path(
    get,
    path = "/scanner/{name}",
    tag = "scanner",
    summary = "A file of the scanner page",
    params(
        ("name" = String, Path, description = "The file name"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "Not found (`not_found`)", body = ErrorResponse),
        CommonErrors,
    )
)]
pub(super) async fn scanner_file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    match &state.scanner {
        Some(site) => site.response(&name),
        None => not_served(),
    }
}
