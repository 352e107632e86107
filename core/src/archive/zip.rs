//! Reads the one file inside an exchange's archive zip (Binance publishes one CSV per
//! zip), from the central directory, inflating with `flate2` as it is read and checking
//! the entry's CRC-32 at its end. Only what these archives use: stored or deflated entries, no ZIP64, no
//! encryption. Sizes come from the central directory and bound the output, so a damaged
//! or hostile file cannot make us allocate more than it declares.

use std::io::{Read, Seek, SeekFrom};

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;
/// Largest entry we inflate (a monthly 1s kline file is about 250 MB unpacked).
const MAX_ENTRY_BYTES: u64 = 2 << 30;

/// The first file of a zip, read as a stream: inflated as it is read, its length and
/// CRC-32 checked when it ends (a mismatch is a read error then, so nothing read from a
/// damaged entry is ever complete).
pub(crate) struct Entry<'a> {
    /// The size the zip declares for it.
    pub declared_len: u64,
    data: Box<dyn Read + Send + 'a>,
    crc: u32,
    hasher: crc32fast::Hasher,
    read: u64,
}

impl Read for Entry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
            self.read += n as u64;
            return Ok(n);
        }
        let damaged = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        if self.read != self.declared_len {
            return Err(damaged(format!(
                "the zip entry inflates to {} bytes, not the {} declared",
                self.read, self.declared_len
            )));
        }
        if self.hasher.clone().finalize() != self.crc {
            return Err(damaged("the zip entry's CRC-32 does not match".into()));
        }
        Ok(0)
    }
}

/// The rows `decode` reads from the first file of `zip` (given that file's text and the
/// size the zip declares for it).
pub(crate) fn rows_of_zip<'a, R: Read + Seek + Send + 'a, T>(
    zip: R,
    decode: impl FnOnce(&mut dyn std::io::BufRead, u64) -> Result<Vec<T>, String>,
) -> Result<Vec<T>, String> {
    let entry = first_entry(zip)?;
    let declared = entry.declared_len;
    decode(&mut std::io::BufReader::new(entry), declared)
}

/// The first file of `zip` (a file on disk, or bytes), to be read as a stream, or why it
/// cannot be read. Only the directory records are read up front.
pub(crate) fn first_entry<'a, R: Read + Seek + Send + 'a>(mut zip: R) -> Result<Entry<'a>, String> {
    let io = |e: std::io::Error| format!("reading the zip: {e}");
    let len = zip.seek(SeekFrom::End(0)).map_err(io)?;
    let tail_len = len.min(22 + u64::from(u16::MAX));
    let tail = read_at(&mut zip, len - tail_len, tail_len as usize)?;
    let end = find_end_of_directory(&tail)?;
    let entries = le16(&tail, end + 10)?;
    let directory = u64::from(le32(&tail, end + 16)?);
    if entries == 0 {
        return Err("the zip holds no file".into());
    }
    let record = read_at(&mut zip, directory, 46)?;
    if le32(&record, 0)? != DIRECTORY_ENTRY {
        return Err("the zip's central directory is damaged".into());
    }
    let flags = le16(&record, 8)?;
    let method = le16(&record, 10)?;
    let crc = le32(&record, 16)?;
    let packed = le32(&record, 20)?;
    let unpacked = le32(&record, 24)?;
    let local = le32(&record, 42)?;
    if packed == u32::MAX || unpacked == u32::MAX || local == u32::MAX {
        return Err("ZIP64 archives are not supported".into());
    }
    if flags & 1 != 0 {
        return Err("the zip entry is encrypted".into());
    }
    if u64::from(unpacked) > MAX_ENTRY_BYTES {
        return Err(format!("the zip entry declares {unpacked} bytes, more than we accept"));
    }
    let header = read_at(&mut zip, u64::from(local), 30)?;
    if le32(&header, 0)? != LOCAL_HEADER {
        return Err("the zip's local header is damaged".into());
    }
    let data_at = u64::from(local) + 30 + u64::from(le16(&header, 26)?) + u64::from(le16(&header, 28)?);
    if data_at + u64::from(packed) > len {
        return Err("the zip is truncated".into());
    }
    zip.seek(SeekFrom::Start(data_at)).map_err(io)?;
    let data = zip.take(u64::from(packed));
    // The declared size bounds what is read (one byte more shows an overlong entry).
    let bound = u64::from(unpacked) + 1;
    let data: Box<dyn Read + Send + 'a> = match method {
        0 => Box::new(data.take(bound)),
        8 => Box::new(flate2::read::DeflateDecoder::new(data).take(bound)),
        other => return Err(format!("unsupported zip compression method {other}")),
    };
    Ok(Entry { declared_len: u64::from(unpacked), data, crc, hasher: crc32fast::Hasher::new(), read: 0 })
}

/// `len` bytes of `zip` from `at`.
fn read_at<R: Read + Seek>(zip: &mut R, at: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0; len];
    zip.seek(SeekFrom::Start(at))
        .and_then(|_| zip.read_exact(&mut bytes))
        .map_err(|_| "the zip is truncated".to_string())?;
    Ok(bytes)
}

/// Where the end-of-central-directory record starts in `tail`, the zip's last bytes (it
/// may be followed by a comment).
fn find_end_of_directory(tail: &[u8]) -> Result<usize, String> {
    (0..=tail.len().saturating_sub(22))
        .rev()
        .find(|&at| tail.len() >= 22 && le32(tail, at) == Ok(END_OF_DIRECTORY))
        .ok_or_else(|| "not a zip file (no end of central directory)".to_string())
}

fn slice(bytes: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len).and_then(|end| bytes.get(at..end)).ok_or_else(|| "the zip is truncated".to_string())
}

fn le16(bytes: &[u8], at: usize) -> Result<u16, String> {
    let b = slice(bytes, at, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn le32(bytes: &[u8], at: usize) -> Result<u32, String> {
    let b = slice(bytes, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) one-file zip, written by hand from the format's spec.
    fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
        let crc = crc32fast::hash(data).to_le_bytes();
        let size = (data.len() as u32).to_le_bytes();
        let name_len = (name.len() as u16).to_le_bytes();
        let mut z = Vec::new();
        z.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
        z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&crc);
        z.extend_from_slice(&size);
        z.extend_from_slice(&size);
        z.extend_from_slice(&name_len);
        z.extend_from_slice(&[0, 0]);
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(data);
        let directory = z.len() as u32;
        z.extend_from_slice(&DIRECTORY_ENTRY.to_le_bytes());
        z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&crc);
        z.extend_from_slice(&size);
        z.extend_from_slice(&size);
        z.extend_from_slice(&name_len);
        z.extend_from_slice(&[0; 12]);
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        let directory_len = z.len() as u32 - directory;
        z.extend_from_slice(&END_OF_DIRECTORY.to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        z.extend_from_slice(&directory_len.to_le_bytes());
        z.extend_from_slice(&directory.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z
    }

    /// The whole entry, or the error reading it ends with.
    fn read_all(zip: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        first_entry(std::io::Cursor::new(zip))?.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn reads_a_stored_entry_and_refuses_damage() {
        let zip = stored_zip("a.csv", b"1,2,3\n");
        assert_eq!(read_all(&zip).unwrap(), b"1,2,3\n".to_vec());
        assert_eq!(first_entry(std::io::Cursor::new(&zip[..])).unwrap().declared_len, 6);
        let mut flipped = zip.clone();
        flipped[30 + 5] ^= 1; // a byte of the data
        assert!(read_all(&flipped).unwrap_err().contains("CRC-32"));
        assert!(read_all(&zip[..zip.len() - 30]).is_err());
        assert!(read_all(b"not a zip").unwrap_err().contains("not a zip"));
        for cut in 0..zip.len() {
            let _ = read_all(&zip[..cut]); // never panics
        }
    }
}
