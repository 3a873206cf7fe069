//! `--qr FILE` on `presentation export` and `evidence receipt`: a QR code image (PNG or SVG by
//! the file name) of the document. By default the code holds a link to the scanner page with the
//! document's bytes in the link's fragment (PROTOCOL.md, "QR codes"): a phone's camera app opens
//! it, and the page verifies the bytes locally (browsers never send a fragment to the server).
//! `--qr-binary` puts the exact bytes in instead. The rendering is in `crate::qr`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use serde_json::{Value, json};

use crate::ops;
use crate::qr::{ImageFormat, QUIET_ZONE, QrCode};

/// The longest scanner URL accepted (the link must leave room for the document in one code).
pub const SCANNER_URL_BYTES_MAX: usize = 256;
/// What precedes the base64url bytes in a link's fragment.
pub const LINK_FRAGMENT_PREFIX: &str = "#p=";

/// `--qr`, `--qr-binary` and `--scanner-url`, shared by the commands that export a document.
#[derive(Args, Debug)]
pub struct QrArgs {
    /// Also (or instead) write a QR code image, PNG or SVG by the file name's extension. It holds
    /// a link to the scanner page, `<scanner-url>#p=<the bytes in base64url>`: a phone camera
    /// opens it, and the page verifies the bytes locally without sending them anywhere.
    #[arg(long, value_name = "FILE")]
    pub qr: Option<PathBuf>,
    /// Put the raw bytes in the QR code instead of a link: about a third smaller, but only the
    /// scanner page (not a phone's camera app) reads it.
    #[arg(long, requires = "qr")]
    pub qr_binary: bool,
    /// The scanner page the QR code's link opens [default: the node's own, `<node>/scanner/`];
    /// ignored with `--qr-binary`.
    #[arg(long, env = "LICHEN_SCANNER_URL", value_name = "URL")]
    pub scanner_url: Option<String>,
}

/// What the QR code holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QrForm {
    /// A link to the scanner page carrying the bytes in its fragment.
    Link { scanner_url: String },
    /// The document's exact bytes.
    Binary,
}

/// A QR code asked for: where, and in which form.
#[derive(Clone, Debug)]
pub struct QrRequest {
    pub path: PathBuf,
    pub format: ImageFormat,
    pub form: QrForm,
}

impl QrArgs {
    /// The QR code asked for, checked before anything is fetched: the file name names an image
    /// format, and the scanner URL (`node`'s `/scanner/` unless given) is one a link can use.
    pub fn request(&self, node: &str) -> Result<Option<QrRequest>> {
        let Some(path) = &self.qr else {
            return Ok(None);
        };
        let format = ImageFormat::from_path(path)?;
        let form = if self.qr_binary {
            QrForm::Binary
        } else {
            let scanner_url = match &self.scanner_url {
                Some(url) => url.clone(),
                None => format!("{}/scanner/", node.trim_end_matches('/')),
            };
            check_scanner_url(&scanner_url)?;
            QrForm::Link { scanner_url }
        };
        Ok(Some(QrRequest {
            path: path.clone(),
            format,
            form,
        }))
    }
}

/// A scanner URL a link can be made of: http or https, printable ASCII, no fragment of its own.
pub fn check_scanner_url(url: &str) -> Result<()> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!(
            "scanner URL '{}' must start with https:// or http://",
            crate::output::safe(url)
        );
    }
    if url.len() > SCANNER_URL_BYTES_MAX {
        bail!(
            "scanner URL is {} bytes; at most {SCANNER_URL_BYTES_MAX} leave room for the document",
            url.len()
        );
    }
    if let Some(c) = url.chars().find(|c| !c.is_ascii_graphic()) {
        bail!("scanner URL must be printable ASCII without spaces; found {c:?}");
    }
    if url.contains('#') {
        bail!(
            "scanner URL must not have a fragment ('#'): the link's fragment carries the document"
        );
    }
    Ok(())
}

/// The link form: `<scanner_url>#p=<base64url of bytes, no padding>`.
pub fn scanner_link(scanner_url: &str, bytes: &[u8]) -> String {
    format!(
        "{scanner_url}{LINK_FRAGMENT_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Writes a fetched presentation or receipt to `out` and/or as a QR code image to `qr`, then
/// says what was written: `report` (JSON fields such as the receipt's hash) gains `size`, `file`
/// and `qr`. The QR code is made first, so nothing is written when the bytes do not fit in one.
pub fn export(
    bytes: &[u8],
    out: Option<&Path>,
    qr: Option<&QrRequest>,
    as_json: bool,
    mut report: Value,
) -> Result<()> {
    let code = qr.map(|q| QrOutput::prepare(q, bytes)).transpose()?;
    if let Some(out) = out {
        ops::write_file(out, bytes)?;
    }
    if let Some(code) = &code {
        code.write()?;
    }
    if as_json {
        report["size"] = json!(bytes.len());
        if let Some(out) = out {
            report["file"] = json!(out);
        }
        if let Some(code) = &code {
            report["qr"] = code.to_json();
        }
        crate::output::out!("{report}");
    } else {
        if let Some(out) = out {
            crate::output::out!(
                "wrote {} ({} bytes); verify with `lichen verify --presentation {} --trust genesis.json`",
                out.display(),
                bytes.len(),
                out.display()
            );
        }
        if let Some(code) = &code {
            crate::output::out!("{}", code.describe());
        }
    }
    Ok(())
}

/// A QR code image made for a file, not yet written.
#[derive(Debug)]
pub struct QrOutput {
    path: PathBuf,
    format: ImageFormat,
    form: QrForm,
    code: QrCode,
    image: Vec<u8>,
}

impl QrOutput {
    /// Encodes `bytes` in the form asked for and renders the image; fails (writing nothing) when
    /// they do not fit in one QR code.
    pub fn prepare(request: &QrRequest, bytes: &[u8]) -> Result<Self> {
        let QrRequest { path, format, form } = request;
        let content = match form {
            QrForm::Link { scanner_url } => scanner_link(scanner_url, bytes).into_bytes(),
            QrForm::Binary => bytes.to_vec(),
        };
        let (code, image) = QrCode::encode(&content)
            .and_then(|code| code.render(*format).map(|image| (code, image)))
            .with_context(|| {
                let hint = match form {
                    QrForm::Link { .. } => {
                        "; a compact presentation (--compact) or --qr-binary is smaller"
                    }
                    QrForm::Binary => "",
                };
                format!(
                    "cannot make the QR code {} (nothing was written){hint}",
                    path.display()
                )
            })?;
        Ok(QrOutput {
            path: path.clone(),
            format: *format,
            form: form.clone(),
            code,
            image,
        })
    }

    pub fn write(&self) -> Result<()> {
        ops::write_file(&self.path, &self.image)
    }

    /// What was chosen, for people.
    pub fn describe(&self) -> String {
        let c = &self.code;
        let ec = c.ec_level();
        let size = match self.format {
            ImageFormat::Png => format!(
                "{px}x{px} px PNG, {} px per module",
                c.module_px(),
                px = c.image_px()
            ),
            ImageFormat::Svg => format!(
                "SVG with viewBox {side}x{side}, {px}x{px} px by default",
                side = c.side_modules(),
                px = c.image_px()
            ),
        };
        let content = match &self.form {
            QrForm::Link { scanner_url } => format!("a link to {scanner_url}"),
            QrForm::Binary => "the raw bytes".to_string(),
        };
        format!(
            "wrote QR code {}: {content}, {} bytes in byte mode, version {}, error correction {} \
             (~{}% recoverable), {w}x{w} modules + {QUIET_ZONE}-module quiet zone, {size}",
            self.path.display(),
            c.data_len(),
            c.version(),
            ec.name(),
            ec.recovery_percent(),
            w = c.width(),
        )
    }

    /// What was chosen, for machines.
    pub fn to_json(&self) -> Value {
        let c = &self.code;
        json!({
            "file": self.path,
            "format": self.format.name(),
            "form": match self.form {
                QrForm::Link { .. } => "link",
                QrForm::Binary => "binary",
            },
            "scanner_url": match &self.form {
                QrForm::Link { scanner_url } => json!(scanner_url),
                QrForm::Binary => Value::Null,
            },
            "bytes": c.data_len(),
            "version": c.version(),
            "ec_level": c.ec_level().name(),
            "modules": c.width(),
            "quiet_zone_modules": QUIET_ZONE,
            "module_px": c.module_px(),
            "image_px": c.image_px(),
        })
    }
}
