//! The one way into the files a project names: the env file, its stack, what `file()` and
//! module `source:` read, and what `aws.s3.object` and `aws.lambda.function` upload, at
//! validate and again at apply. Nothing else in `src/` opens a file the stack names.
//!
//! A path is resolved by the operating system (symbolic links followed, `..` after a link
//! taken from the link's target, as the kernel would) and the result must lie inside the
//! project directory or a root the env allows (`file_roots:`); only regular files are read
//! (a FIFO would block, `/dev/zero` never ends), checked before opening and again on the
//! opened handle (same device and inode), and never more than a cap, counted while
//! reading (a file that grows is cut off, not trusted for its size). Hard links are not
//! followed by anything: a hard link inside the project is the file itself, as `git`
//! sees it.

use crate::diag::{Diagnostic, Span};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The largest file an `aws.s3.object` uploads: it is held in memory, hashed at validate
/// and sent in one `PutObject` (AWS's own limit for one PUT is 5 GB,
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
pub const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// How deep a directory walk (a Lambda `source`) goes.
const MAX_DEPTH: usize = 64;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    Missing,
    /// Resolved (links followed) to this path, outside every allowed root.
    Outside(PathBuf),
    /// What it is instead: "a directory", "a FIFO", …
    NotRegular(&'static str),
    /// Larger than this many bytes.
    TooLarge(u64),
    /// The files under a directory come to more than this many bytes.
    TooMuch(u64),
    /// A directory was expected (an env's `file_roots`).
    NotADirectory,
    /// A link to a directory above it (or nesting deeper than [`MAX_DEPTH`]).
    Loop,
    Unreadable(String),
}

/// A refused read: the path as it was written, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Denied {
    pub path: PathBuf,
    pub why: Why,
}

fn size(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n % MIB == 0 {
        format!("{} MiB", n / MIB)
    } else if n % 1_000_000 == 0 {
        format!("{} MB", n / 1_000_000)
    } else {
        format!("{n} bytes")
    }
}

impl Denied {
    fn new(path: &Path, why: Why) -> Denied {
        Denied { path: path.to_path_buf(), why }
    }

    /// The fixed short summary of a diagnostic.
    pub fn summary(&self) -> &'static str {
        match self.why {
            Why::Missing => "Missing file",
            Why::Outside(_) => "File outside the project",
            Why::NotRegular(_) => "Not a regular file",
            Why::NotADirectory => "Not a directory",
            Why::TooLarge(_) | Why::TooMuch(_) => "File too large",
            Why::Loop => "Symbolic link loop",
            Why::Unreadable(_) => "Unreadable file",
        }
    }

    /// Why, as the end of "cannot read `x`: …".
    pub fn reason(&self) -> String {
        match &self.why {
            Why::Missing => "it does not exist".into(),
            Why::Outside(to) if to.as_path() != self.path => {
                format!("it is outside the project directory (it leads to `{}`)", to.display())
            }
            Why::Outside(_) => "it is outside the project directory".into(),
            Why::NotRegular(what) => format!("it is {what}, not a regular file"),
            Why::NotADirectory => "it is not a directory".into(),
            Why::TooLarge(cap) => format!("it is larger than {}", size(*cap)),
            Why::TooMuch(cap) => format!("the files under it come to more than {}", size(*cap)),
            Why::Loop => "it links back to a directory above it".into(),
            Why::Unreadable(e) => e.clone(),
        }
    }

    /// How to fix it (for a missing file the caller knows better: `missing`).
    pub fn hint(&self, missing: &str) -> String {
        match &self.why {
            Why::Missing => missing.into(),
            Why::Outside(_) => "name a file inside the project directory (a symbolic link must lead inside it too), \
                 or list the other directory under `file_roots:` in the environment file"
                .into(),
            Why::NotRegular("a directory") => "name a file, not a directory".into(),
            Why::NotRegular(_) => "name a regular file: FIFOs, devices and sockets are never read".into(),
            Why::NotADirectory => "name a directory".into(),
            Why::TooLarge(_) => "check that the path names the file you mean".into(),
            Why::TooMuch(_) => {
                "leave out what the code does not need, or upload it to S3 and give `s3_bucket` and `s3_key`".into()
            }
            Why::Loop => "remove the link, or point it at a directory that is not above it".into(),
            Why::Unreadable(_) => "check the file's permissions".into(),
        }
    }

    /// A located diagnostic: "cannot read {what} `{path}`: {reason}".
    pub fn diagnostic(&self, what: &str, span: &Span, missing: &str) -> Diagnostic {
        Diagnostic::error(self.summary(), format!("cannot read {what} `{}`: {}", self.path.display(), self.reason()))
            .at(span)
            .hint(self.hint(missing))
    }
}

/// One file found under a directory ([`Project::tree`]).
pub struct Found {
    /// Its path under the directory, with `/`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// The project directory and the other roots its env allows, and every read under them.
#[derive(Debug, Clone)]
pub struct Project {
    /// As given (`-C DIR`): relative paths are joined to it.
    dir: PathBuf,
    /// Canonical: the project's own first, then `file_roots`.
    roots: Vec<PathBuf>,
}

fn kind(meta: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else {
        Some("a special file")
    }
}

fn io_why(e: &io::Error) -> Why {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Why::Missing,
        _ if e.raw_os_error() == Some(libc::ELOOP) => Why::Loop,
        _ => Why::Unreadable(e.to_string()),
    }
}

#[cfg(unix)]
fn executable(meta: &Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// Read at most `cap` bytes of `r`: one more means it is too large, whatever its size said.
pub fn read_at_most(r: impl Read, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    r.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((u64::try_from(bytes.len()).unwrap_or(u64::MAX) <= cap).then_some(bytes))
}

/// A file the user named on the command line (`--var-file`): read where it is, whatever it
/// is (`<(…)` is a pipe), at most `cap` bytes. Never for a path a file names.
pub fn read_given(dir: &Path, path: &Path, cap: u64) -> Result<Vec<u8>, Denied> {
    let full = dir.join(path);
    let file = File::open(&full).map_err(|e| match e.kind() {
        io::ErrorKind::IsADirectory => Denied::new(path, Why::NotRegular("a directory")),
        _ => Denied::new(path, io_why(&e)),
    })?;
    match read_at_most(&file, cap) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(Denied::new(path, Why::TooLarge(cap))),
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => Err(Denied::new(path, Why::NotRegular("a directory"))),
        Err(e) => Err(Denied::new(path, io_why(&e))),
    }
}

impl Project {
    /// The project at `dir`, its only root (more with [`Project::allow`]).
    pub fn new(dir: &Path) -> Project {
        let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        Project { dir: dir.to_path_buf(), roots: vec![root] }
    }

    /// No project: every read is refused (for clients that upload nothing).
    pub fn none() -> Project {
        Project { dir: PathBuf::new(), roots: Vec::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Also allow the directory `path` (relative to the project, or absolute): an env's
    /// `file_roots` entry. It must exist and be a directory.
    pub fn allow(&mut self, path: &Path) -> Result<(), Denied> {
        let canonical = std::fs::canonicalize(self.dir.join(path)).map_err(|e| Denied::new(path, io_why(&e)))?;
        let meta = std::fs::metadata(&canonical).map_err(|e| Denied::new(path, io_why(&e)))?;
        if !meta.is_dir() {
            return Err(Denied::new(path, Why::NotADirectory));
        }
        self.roots.push(canonical);
        Ok(())
    }

    /// Where `path` (relative to the project directory, or absolute) really is: links
    /// followed, inside an allowed root.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Denied> {
        let Some(root) = self.roots.first() else {
            return Err(Denied::new(path, Why::Outside(path.to_path_buf())));
        };
        self.confine(&root.join(path), path)
    }

    /// `full` (absolute) resolved and confined; `written` names it in errors.
    fn confine(&self, full: &Path, written: &Path) -> Result<PathBuf, Denied> {
        let inside = |p: &Path| self.roots.iter().any(|r| p.starts_with(r));
        let canonical = std::fs::canonicalize(full).map_err(|e| {
            // What does not exist outside the project is outside all the same: whether
            // `/etc/x` exists is none of the stack's business.
            let lexical = lexical(full);
            match inside(&lexical) {
                true => Denied::new(written, io_why(&e)),
                false => Denied::new(written, Why::Outside(lexical)),
            }
        })?;
        if !inside(&canonical) {
            return Err(Denied::new(written, Why::Outside(canonical)));
        }
        Ok(canonical)
    }

    /// The bytes of the regular file `path` (see [`Project::resolve`]), at most `cap`.
    pub fn read(&self, path: &Path, cap: u64) -> Result<Vec<u8>, Denied> {
        let canonical = self.resolve(path)?;
        open_regular(&canonical, path, cap).map(|(bytes, _)| bytes)
    }

    /// Every regular file under the directory `path` (or the file itself, under its own
    /// name), sorted by path; names `skip` refuses are left out. Each entry is confined as
    /// `path` is (a link to a file inside the project is followed, one leaving it refused),
    /// and all together come to at most `cap` bytes.
    pub fn tree(&self, path: &Path, skip: &dyn Fn(&str) -> bool, cap: u64) -> Result<Vec<Found>, Denied> {
        let canonical = self.resolve(path)?;
        let meta = std::fs::metadata(&canonical).map_err(|e| Denied::new(path, io_why(&e)))?;
        if !meta.is_dir() {
            let (bytes, executable) = open_regular(&canonical, path, cap)?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Ok(vec![Found { path: name, bytes, executable }]);
        }
        let mut walk = Walk { project: self, skip, left: cap, cap, top: path, out: Vec::new() };
        walk.dir(&canonical, path, "", &mut vec![canonical.clone()])?;
        let mut out = walk.out;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

struct Walk<'a> {
    project: &'a Project,
    skip: &'a dyn Fn(&str) -> bool,
    left: u64,
    cap: u64,
    top: &'a Path,
    out: Vec<Found>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, written: &Path, prefix: &str, above: &mut Vec<PathBuf>) -> Result<(), Denied> {
        let entries = std::fs::read_dir(dir).map_err(|e| Denied::new(written, io_why(&e)))?;
        for e in entries {
            let e = e.map_err(|e| Denied::new(written, io_why(&e)))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if (self.skip)(&name) {
                continue;
            }
            let (w, rel) = (written.join(&name), if prefix.is_empty() { name } else { format!("{prefix}/{name}") });
            let canonical = self.project.confine(&dir.join(e.file_name()), &w)?;
            let meta = std::fs::metadata(&canonical).map_err(|e| Denied::new(&w, io_why(&e)))?;
            if meta.is_dir() {
                if above.contains(&canonical) || above.len() > MAX_DEPTH {
                    return Err(Denied::new(&w, Why::Loop));
                }
                above.push(canonical.clone());
                self.dir(&canonical, &w, &rel, above)?;
                above.pop();
                continue;
            }
            let (bytes, executable) = open_regular(&canonical, &w, self.left).map_err(|d| match d.why {
                Why::TooLarge(_) => Denied::new(self.top, Why::TooMuch(self.cap)),
                _ => d,
            })?;
            self.left = self.left.saturating_sub(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
            self.out.push(Found { path: rel, bytes, executable });
        }
        Ok(())
    }
}

/// Open `canonical` (no links left in it) if it is a regular file, and read at most `cap`
/// bytes; `written` names it in errors. Checked before opening (opening a FIFO blocks) and
/// on the handle (same device and inode, still regular), opened without following a link
/// and without blocking, so a file swapped in between cannot hang or redirect the read.
fn open_regular(canonical: &Path, written: &Path, cap: u64) -> Result<(Vec<u8>, bool), Denied> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let deny = |why| Denied::new(written, why);
    let before = std::fs::symlink_metadata(canonical).map_err(|e| deny(io_why(&e)))?;
    if let Some(what) = kind(&before) {
        return Err(deny(Why::NotRegular(what)));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(canonical)
        .map_err(|e| deny(io_why(&e)))?;
    let after = file.metadata().map_err(|e| deny(io_why(&e)))?;
    if let Some(what) = kind(&after) {
        return Err(deny(Why::NotRegular(what)));
    }
    if (after.dev(), after.ino()) != (before.dev(), before.ino()) {
        return Err(deny(Why::Unreadable("it was replaced while being opened".into())));
    }
    match read_at_most(&file, cap) {
        Ok(Some(bytes)) => Ok((bytes, executable(&after))),
        Ok(None) => Err(deny(Why::TooLarge(cap))),
        Err(e) => Err(deny(io_why(&e))),
    }
}

/// `p` with `.` and `..` taken textually (`..` of the root is the root).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// `to` as a path from the directory `from`, both canonical (so `..` is the real parent).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let (a, b): (Vec<Component>, Vec<Component>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Where local files a stack uploads resolve at apply: the project, and the directory of
/// the stack file (relative to the project) that `source` paths in a plan are written from.
#[derive(Debug, Clone)]
pub struct Sources {
    pub project: Project,
    pub base: PathBuf,
}

impl Sources {
    pub fn path(&self, source: &str) -> PathBuf {
        self.base.join(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn project() -> (tempfile::TempDir, tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::write(dir.path().join("stacks/a.txt"), "A").unwrap();
        std::fs::write(outside.path().join("secret"), "S").unwrap();
        let p = Project::new(dir.path());
        (dir, outside, p)
    }

    fn why(r: Result<Vec<u8>, Denied>) -> Why {
        r.unwrap_err().why
    }

    #[test]
    fn a_file_inside_is_read_and_one_outside_is_refused_however_it_is_reached() {
        let (dir, outside, p) = project();
        assert_eq!(p.read(Path::new("stacks/a.txt"), 10).unwrap(), b"A");
        assert_eq!(p.read(Path::new("stacks/../stacks/./a.txt"), 10).unwrap(), b"A");
        let secret = outside.path().join("secret");
        assert!(matches!(why(p.read(&secret, 10)), Why::Outside(_)));
        assert!(matches!(why(p.read(Path::new("../../../../../../etc/passwd"), 10)), Why::Outside(_)));
        // A link, a chain of links, `..` after a link: what counts is where they lead.
        symlink(&secret, dir.path().join("stacks/link")).unwrap();
        symlink("link", dir.path().join("stacks/chain")).unwrap();
        std::fs::create_dir_all(outside.path().join("sub")).unwrap();
        symlink(outside.path().join("sub"), dir.path().join("stacks/out")).unwrap();
        for p_ in ["stacks/link", "stacks/chain", "stacks/out/../secret"] {
            let d = p.read(Path::new(p_), 10).unwrap_err();
            assert!(matches!(d.why, Why::Outside(_)), "{p_}: {d:?}");
            assert_eq!(d.path, Path::new(p_), "named as written");
            assert!(d.reason().contains("leads to"), "{}", d.reason());
        }
        // A link that stays inside is followed.
        symlink("a.txt", dir.path().join("stacks/inside")).unwrap();
        assert_eq!(p.read(Path::new("stacks/inside"), 10).unwrap(), b"A");
        // Unless the env allows the other directory.
        let mut allowed = p.clone();
        allowed.allow(outside.path()).unwrap();
        assert_eq!(allowed.read(Path::new("stacks/link"), 10).unwrap(), b"S");
    }

    #[test]
    fn only_regular_files_are_opened() {
        let (dir, _outside, mut p) = project();
        p.allow(Path::new("/dev")).unwrap();
        assert_eq!(why(p.read(Path::new("/dev/zero"), 10)), Why::NotRegular("a device"));
        assert_eq!(why(p.read(Path::new("stacks"), 10)), Why::NotRegular("a directory"));
        let fifo = dir.path().join("stacks/fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(why(p.read(Path::new("stacks/fifo"), 10)), Why::NotRegular("a FIFO"));
        assert_eq!(why(p.read(Path::new("stacks/none"), 10)), Why::Missing);
        assert_eq!(why(p.read(Path::new("stacks/a.txt/x"), 10)), Why::Missing);
    }

    #[test]
    fn the_cap_is_counted_while_reading_not_taken_from_the_size() {
        // An endless reader (a file that grows while read) stops one byte past the cap.
        assert_eq!(read_at_most(io::repeat(0), 1000).unwrap(), None);
        assert_eq!(read_at_most(&b"12345"[..], 5).unwrap().unwrap(), b"12345");
        assert_eq!(read_at_most(&b"123456"[..], 5).unwrap(), None);
        let (_dir, _outside, p) = project();
        assert_eq!(why(p.read(Path::new("stacks/a.txt"), 0)), Why::TooLarge(0));
    }

    #[test]
    fn a_tree_follows_links_inside_refuses_links_out_and_loops_and_caps_the_total() {
        let (dir, outside, p) = project();
        let code = dir.path().join("stacks/code");
        std::fs::create_dir_all(code.join("pkg")).unwrap();
        std::fs::write(code.join("handler.py"), "h").unwrap();
        std::fs::write(code.join("pkg/skip.pyc"), "x").unwrap();
        symlink("../../a.txt", code.join("pkg/a.txt")).unwrap();
        let skip = |n: &str| n.ends_with(".pyc");
        let names = |t: Vec<Found>| t.into_iter().map(|f| f.path).collect::<Vec<_>>();
        assert_eq!(names(p.tree(Path::new("stacks/code"), &skip, 100).unwrap()), ["handler.py", "pkg/a.txt"]);
        let d = p.tree(Path::new("stacks/code"), &skip, 1).err().unwrap();
        assert_eq!((d.path.as_path(), d.why), (Path::new("stacks/code"), Why::TooMuch(1)));

        symlink(outside.path().join("secret"), code.join("pkg/key")).unwrap();
        let d = p.tree(Path::new("stacks/code"), &skip, 100).err().unwrap();
        assert_eq!(d.path, Path::new("stacks/code/pkg/key"));
        assert!(matches!(d.why, Why::Outside(_)));
        std::fs::remove_file(code.join("pkg/key")).unwrap();

        symlink("..", code.join("pkg/up")).unwrap();
        let d = p.tree(Path::new("stacks/code"), &skip, 100).err().unwrap();
        assert_eq!((d.path.as_path(), d.why), (Path::new("stacks/code/pkg/up"), Why::Loop));
        std::fs::remove_file(code.join("pkg/up")).unwrap();

        // A single file is its own tree, under the name it was given.
        assert_eq!(names(p.tree(Path::new("stacks/code/handler.py"), &skip, 100).unwrap()), ["handler.py"]);
    }

    #[test]
    fn a_root_must_be_a_directory_that_exists() {
        let (_dir, _outside, mut p) = project();
        assert_eq!(p.allow(Path::new("nowhere")).unwrap_err().why, Why::Missing);
        assert_eq!(p.allow(Path::new("stacks/a.txt")).unwrap_err().why, Why::NotADirectory);
    }

    #[test]
    fn relative_paths_between_canonical_directories() {
        assert_eq!(relative(Path::new("/p/stacks"), Path::new("/p/components/code")), Path::new("../components/code"));
        assert_eq!(relative(Path::new("/p/stacks"), Path::new("/p/stacks/code")), Path::new("code"));
        assert_eq!(relative(Path::new("/p/stacks"), Path::new("/p/stacks")), Path::new("."));
    }
}
