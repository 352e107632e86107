//! Zip archives of one deflated file, written from the format's spec (PKWARE APPNOTE):
//! the bulk archives of Binance and OKX serve one CSV per zip.

use std::io::Write as _;

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// A zip archive holding one deflated file.
pub(crate) fn zip_one(name: &str, data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    let deflated = encoder.finish().unwrap_or_default();
    let crc = crc32fast::hash(data);
    let (size, packed) = (data.len() as u32, deflated.len() as u32);
    let name_len = name.len() as u16;
    let mut out = Vec::with_capacity(deflated.len() + 2 * name.len() + 100);
    // Local file header: version 2.0, no flags, deflate, no time, CRC, sizes, name.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for v in [20u16, 0, 8, 0, 0x21] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, packed, size] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&deflated);
    let central_at = out.len() as u32;
    // Central directory entry for it.
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    for v in [20u16, 20, 0, 8, 0, 0x21] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, packed, size] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [name_len, 0, 0, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    out.extend_from_slice(name.as_bytes());
    let central_len = out.len() as u32 - central_at;
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
