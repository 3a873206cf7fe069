//! QR codes of presentations and evidence receipts, for a front-desk scanner to read from a
//! phone screen or paper.
//!
//! The symbol holds the document's exact binary bytes in one byte-mode segment (no ECI, no mode
//! switching), so a reader gets them back unchanged (jsQR's `binaryData`, rqrr's `decode_to`).
//! Error correction M (about 15% of the symbol recoverable) is preferred; when M cannot hold the
//! bytes even at version 40, L (about 7%) is used; beyond L's 2,953 bytes there is no single QR
//! code and [`QrCode::encode`] says so. Within a level the smallest version that fits is used.
//!
//! Images: PNG (1-bit greyscale) and SVG (one path of module runs), both with the 4-module quiet
//! zone the QR standard asks for, and [`QrCode::module_px`] pixels per module so that the PNG is
//! at most about [`IMAGE_PX_TARGET`] pixels wide and fits a phone screen at one image pixel per
//! screen pixel.

use std::fmt::Write as _;
use std::path::Path;

use qrcode::bits::Bits;
use qrcode::types::{Color, Version};

/// Light modules around the symbol on every side (the QR standard's minimum quiet zone).
pub const QUIET_ZONE: usize = 4;
/// The PNG's side is kept at or below about this many pixels: it then fits the width of a phone
/// screen (1080 pixels and up) without scaling.
pub const IMAGE_PX_TARGET: u32 = 1000;
/// Fewest pixels per module in a PNG (a version 40 code is 185 modules wide with its quiet zone).
pub const MODULE_PX_MIN: u32 = 4;
/// Most pixels per module in a PNG (small codes do not need to be blown up further).
pub const MODULE_PX_MAX: u32 = 8;
/// The largest QR version.
pub const VERSION_MAX: u8 = 40;
/// The most bytes one QR code holds in byte mode: version 40 at error correction L.
pub const BYTES_MAX: usize = 2953;
/// The most bytes one QR code holds in byte mode at error correction M (version 40).
pub const BYTES_MAX_M: usize = 2331;

/// An error-correction level used here, in order of preference: see [`EC_PREFERENCE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcLevel {
    /// Low: about 7% of the codewords can be restored.
    L,
    /// Medium: about 15% of the codewords can be restored.
    M,
}

/// The levels tried, most robust first.
pub const EC_PREFERENCE: [EcLevel; 2] = [EcLevel::M, EcLevel::L];

impl EcLevel {
    pub fn name(self) -> &'static str {
        match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
        }
    }

    /// Roughly how much of the symbol may be damaged and still read, in percent.
    pub fn recovery_percent(self) -> u8 {
        match self {
            EcLevel::L => 7,
            EcLevel::M => 15,
        }
    }

    fn to_qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
        }
    }
}

/// The image format of a QR code file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

impl ImageFormat {
    /// The format a file name asks for, by its extension (`.png` or `.svg`, any case).
    pub fn from_path(path: &Path) -> Result<Self, QrError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            _ => Err(QrError::UnknownFormat {
                path: path.display().to_string(),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error(
        "{len} bytes do not fit in one QR code: byte mode holds at most {BYTES_MAX} bytes \
         (version 40, error correction L; {BYTES_MAX_M} at M)"
    )]
    TooLarge { len: usize },
    #[error("cannot tell the QR image format from '{path}': name the file .png or .svg")]
    UnknownFormat { path: String },
    #[error("QR encoding failed: {0}")]
    Encode(qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// Bytes a byte-mode segment can carry in `version` at `ec` (none for a version outside 1..=40).
pub fn capacity(version: u8, ec: EcLevel) -> Option<usize> {
    if !(1..=VERSION_MAX).contains(&version) {
        return None;
    }
    let data_bits = Bits::new(Version::Normal(i16::from(version)))
        .max_len(ec.to_qrcode())
        .ok()?;
    // The segment header: a 4-bit mode indicator and the byte count (8 bits up to version 9,
    // 16 bits from version 10).
    let count_bits = if version <= 9 { 8 } else { 16 };
    Some(data_bits.saturating_sub(4 + count_bits) / 8)
}

/// The version and level [`QrCode::encode`] uses for `len` bytes: the first level of
/// [`EC_PREFERENCE`] that can hold them, at the smallest version that does.
pub fn choose(len: usize) -> Result<(u8, EcLevel), QrError> {
    EC_PREFERENCE
        .iter()
        .find_map(|&ec| {
            (1..=VERSION_MAX)
                .find(|&v| capacity(v, ec).is_some_and(|c| c >= len))
                .map(|v| (v, ec))
        })
        .ok_or(QrError::TooLarge { len })
}

/// A QR code symbol holding some bytes in byte mode.
#[derive(Clone, Debug)]
pub struct QrCode {
    data_len: usize,
    version: u8,
    ec: EcLevel,
    /// Modules per side, without the quiet zone.
    width: usize,
    /// Row-major, `true` for a dark module.
    dark: Vec<bool>,
}

impl QrCode {
    /// Encodes `data` as one byte-mode segment, at the level and version [`choose`] picks.
    pub fn encode(data: &[u8]) -> Result<Self, QrError> {
        let (version, ec) = choose(data.len())?;
        let mut bits = Bits::new(Version::Normal(i16::from(version)));
        bits.push_byte_data(data).map_err(QrError::Encode)?;
        bits.push_terminator(ec.to_qrcode())
            .map_err(QrError::Encode)?;
        let code = qrcode::QrCode::with_bits(bits, ec.to_qrcode()).map_err(QrError::Encode)?;
        Ok(QrCode {
            data_len: data.len(),
            version,
            ec,
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// How many bytes the code holds.
    pub fn data_len(&self) -> usize {
        self.data_len
    }

    /// The QR version, 1 to 40.
    pub fn version(&self) -> u8 {
        self.version
    }

    pub fn ec_level(&self) -> EcLevel {
        self.ec
    }

    /// Modules per side of the symbol itself (17 + 4 × version), without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side of the image: the symbol and the quiet zone on both sides.
    pub fn side_modules(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Whether the module at column `x`, row `y` of the symbol (quiet zone excluded) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Pixels per module in the PNG: as many as keep the image within [`IMAGE_PX_TARGET`],
    /// between [`MODULE_PX_MIN`] and [`MODULE_PX_MAX`].
    pub fn module_px(&self) -> u32 {
        let side = u32::try_from(self.side_modules()).unwrap_or(u32::MAX);
        (IMAGE_PX_TARGET / side.max(1)).clamp(MODULE_PX_MIN, MODULE_PX_MAX)
    }

    /// The PNG's width and height in pixels (also the SVG's default size).
    pub fn image_px(&self) -> u32 {
        let side = u32::try_from(self.side_modules()).unwrap_or(u32::MAX);
        side.saturating_mul(self.module_px())
    }

    /// The image in `format`.
    pub fn render(&self, format: ImageFormat) -> Result<Vec<u8>, QrError> {
        match format {
            ImageFormat::Png => self.to_png(),
            ImageFormat::Svg => Ok(self.to_svg().into_bytes()),
        }
    }

    /// A 1-bit greyscale PNG, black on white, [`Self::image_px`] pixels square.
    pub fn to_png(&self) -> Result<Vec<u8>, QrError> {
        let px = self.image_px();
        let module = self.module_px() as usize;
        let side = self.side_modules();
        let row_bytes = (px as usize).div_ceil(8);
        let mut pixels = Vec::with_capacity(row_bytes * px as usize);
        for my in 0..side {
            // One row of pixels for this row of modules; bit 1 is white.
            let mut row = vec![0u8; row_bytes];
            for x in 0..px as usize {
                if !self.image_module_dark(x / module, my) {
                    row[x / 8] |= 0x80 >> (x % 8);
                }
            }
            for _ in 0..module {
                pixels.extend_from_slice(&row);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, px, px);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
        Ok(out)
    }

    /// An SVG: a white square of [`Self::side_modules`] user units (`viewBox`), one unit per
    /// module, and a black path of the dark modules' horizontal runs. Its default size is
    /// [`Self::image_px`] pixels; it scales without blurring (`crispEdges`).
    pub fn to_svg(&self) -> String {
        let side = self.side_modules();
        let px = self.image_px();
        let mut path = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                // Writing to a String cannot fail.
                let _ = write!(
                    path,
                    "M{} {}h{run}v1h-{run}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE
                );
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{px}\" \
             height=\"{px}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
             <path fill=\"#000\" d=\"{path}\"/></svg>\n"
        )
    }

    /// Whether the module at column `x`, row `y` of the image (quiet zone included) is dark.
    fn image_module_dark(&self, x: usize, y: usize) -> bool {
        x >= QUIET_ZONE && y >= QUIET_ZONE && self.is_dark(x - QUIET_ZONE, y - QUIET_ZONE)
    }
}
