//! `--qr FILE` on `presentation export` and `evidence receipt`: the document's exact bytes as a
//! QR code image, PNG or SVG by the file name. The rendering is in `crate::qr`.

use std::path::{Path, PathBuf};

use crate::qr::{ImageFormat, QUIET_ZONE, QrCode};
use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::ops;

/// Checks that `path` names an image format we write, before anything is fetched.
pub fn check_path(path: &Path) -> Result<ImageFormat> {
    Ok(ImageFormat::from_path(path)?)
}

/// Writes a fetched presentation or receipt to `out` and/or as a QR code image to `qr`, then
/// says what was written: `report` (JSON fields such as the receipt's hash) gains `size`, `file`
/// and `qr`. The QR code is made first, so nothing is written when the bytes do not fit in one.
pub fn export(
    bytes: &[u8],
    out: Option<&Path>,
    qr: Option<&Path>,
    as_json: bool,
    mut report: Value,
) -> Result<()> {
    let code = qr.map(|p| QrOutput::prepare(p, bytes)).transpose()?;
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
    code: QrCode,
    image: Vec<u8>,
}

impl QrOutput {
    /// Encodes `bytes` and renders the image `path` asks for; fails (writing nothing) when the
    /// bytes do not fit in one QR code.
    pub fn prepare(path: &Path, bytes: &[u8]) -> Result<Self> {
        let format = check_path(path)?;
        let (code, image) = QrCode::encode(bytes)
            .and_then(|code| code.render(format).map(|image| (code, image)))
            .with_context(|| {
                format!(
                    "cannot make the QR code {} (nothing was written)",
                    path.display()
                )
            })?;
        Ok(QrOutput {
            path: path.to_path_buf(),
            format,
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
        format!(
            "wrote QR code {}: {} bytes in byte mode, version {}, error correction {} (~{}% \
             recoverable), {w}x{w} modules + {QUIET_ZONE}-module quiet zone, {size}",
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
