//! Deterministic zip archives of local code (Lambda functions): the same files always give
//! the same bytes, so the archive's SHA-256 — which Lambda reports as `CodeSha256` — tells
//! whether the code changed. Entries are sorted by path, stored without compression, dated
//! 1980-01-01 and given mode 644 (755 for executables), whatever the file system says.
//! Python's `__pycache__` directories, `*.pyc` files and `.DS_Store` are left out: running
//! a handler's tests must not change the function.

use crate::files::{Denied, Project, Why};
use std::io;
use std::path::Path;

/// The largest archive Lambda takes in its API call (50 MB, "Deployment package (.zip
/// file archive) size: 50 MB (zipped, when uploading through the Lambda API)",
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); larger code
/// goes through S3. The files read for an archive come to no more than this either.
pub const MAX_DIRECT_UPLOAD: usize = 50 * 1000 * 1000;

/// One file of an archive: its path inside (with `/`), its bytes, and whether it is executable.
pub struct Entry {
    pub path: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

fn skipped(name: &str) -> bool {
    name == "__pycache__" || name == ".DS_Store" || name.ends_with(".pyc")
}

/// The files of `source` (relative to the project), read through `files`: the file itself
/// (under its own name), or every file under the directory, by their paths relative to
/// it, sorted. Links are confined as every path is ([`crate::files`]).
pub fn entries(files: &Project, source: &Path) -> Result<Vec<Entry>, Denied> {
    let cap = u64::try_from(MAX_DIRECT_UPLOAD).unwrap_or(u64::MAX);
    let found = files.tree(source, &skipped, cap)?;
    Ok(found.into_iter().map(|f| Entry { path: f.path, bytes: f.bytes, executable: f.executable }).collect())
}

/// A zip of `source` (see [`entries`]), refused if it holds no files or is larger than
/// Lambda takes directly.
pub fn zip_source(files: &Project, source: &Path) -> Result<Vec<u8>, Denied> {
    let entries = entries(files, source)?;
    let denied = |why| Denied { path: source.to_path_buf(), why };
    if entries.is_empty() {
        return Err(denied(Why::Unreadable("it holds no files".into())));
    }
    let zip = zip(&entries).map_err(|e| denied(Why::Unreadable(e.to_string())))?;
    if zip.len() > MAX_DIRECT_UPLOAD {
        return Err(denied(Why::TooMuch(u64::try_from(MAX_DIRECT_UPLOAD).unwrap_or(u64::MAX))));
    }
    Ok(zip)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn u32_of(n: usize, what: &str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} is too large for a zip")))
}

fn u16_of(n: usize, what: &str) -> io::Result<u16> {
    u16::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} is too large for a zip")))
}

/// A stored (uncompressed) zip of `entries`, in their order.
pub fn zip(entries: &[Entry]) -> io::Result<Vec<u8>> {
    // 1980-01-01 00:00 in MS-DOS form; UTF-8 names (flag bit 11).
    const DATE: u16 = (1 << 5) | 1;
    const FLAGS: u16 = 1 << 11;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let (name, data) = (e.path.as_bytes(), &e.bytes);
        let (crc, size, name_len) = (crc32(data), u32_of(data.len(), &e.path)?, u16_of(name.len(), &e.path)?);
        let offset = u32_of(out.len(), "the archive")?;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
            v.extend_from_slice(&FLAGS.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&DATE.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, 2.0
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        let mode: u32 = if e.executable { 0o100755 } else { 0o100644 };
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let (cd_offset, cd_size) = (u32_of(out.len(), "the archive")?, u32_of(central.len(), "the archive")?);
    let count = u16_of(entries.len(), "the number of files")?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    Ok(out)
}

/// How Lambda reports an archive's hash (`CodeSha256`): its SHA-256, base64-encoded.
pub fn code_sha256(zip: &[u8]) -> String {
    use sha2::Digest;
    aws_smithy_types::base64::encode(sha2::Sha256::digest(zip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn the_same_files_give_the_same_bytes_whatever_their_order_or_times() {
        let a = tempfile::tempdir().unwrap();
        let p = Project::new(a.path());
        let zip_source = |d: &Path| zip_source(&p, d.strip_prefix(a.path()).unwrap());
        let entries = |d: &Path| entries(&p, d.strip_prefix(a.path()).unwrap());
        std::fs::create_dir_all(a.path().join("pkg/__pycache__")).unwrap();
        std::fs::write(a.path().join("handler.py"), "def handler(e, c):\n    return 1\n").unwrap();
        std::fs::write(a.path().join("pkg/util.py"), "X = 1\n").unwrap();
        let first = zip_source(a.path()).unwrap();
        // Bytecode from running the tests, and a new modification time, change nothing.
        std::fs::write(a.path().join("pkg/__pycache__/util.cpython-311.pyc"), "junk").unwrap();
        std::fs::write(a.path().join("handler.py"), "def handler(e, c):\n    return 1\n").unwrap();
        assert_eq!(zip_source(a.path()).unwrap(), first);
        // A changed byte changes the hash.
        std::fs::write(a.path().join("pkg/util.py"), "X = 2\n").unwrap();
        assert_ne!(code_sha256(&zip_source(a.path()).unwrap()), code_sha256(&first));
        let names: Vec<String> = entries(a.path()).unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(names, ["handler.py", "pkg/util.py"]);
    }

    #[test]
    fn an_empty_directory_is_refused() {
        let a = tempfile::tempdir().unwrap();
        let d = zip_source(&Project::new(a.path()), Path::new("")).unwrap_err();
        assert!(d.reason().contains("no files"), "{d:?}");
    }
}
