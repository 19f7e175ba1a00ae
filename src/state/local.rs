//! State in a local file. The lock is an OS file lock on `<path>.lock`, so it dies with its
//! process; writes go to a temporary file that is synced and renamed over the old state.
//! The state as it was before this run's first write is kept as `<path>.backup`. A write
//! never re-reads the file: the file's identity (inode, size, modification time) after
//! this store's last read or write tells whether anyone else wrote it since.
//!
//! Steps are recorded in `<path>.journal`, one appended and synced JSON line each (the
//! resources a step put or removed, with the new serial), so recording a step costs what
//! the step changed, not the size of the state. The journal is folded into the state file
//! at the end of a run, and whenever it has grown as large as the state file; reading
//! state replays it (a line torn by `kill -9` was never acknowledged and is ignored).

use super::{LockInfo, State, StateError, StateStore};
use async_trait::async_trait;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct LocalStore {
    path: PathBuf,
    lock_file: Mutex<Option<File>>,
    /// The file as this store last read or wrote it; `None` before it has.
    seen: Mutex<Option<Stamp>>,
    /// The lineage last read or written: a write of another lineage is refused.
    lineage: Mutex<Option<String>>,
    /// Whether this store already kept the state of before its first write.
    backed_up: Mutex<bool>,
    /// The journal as this store last read or appended it (`None`: there is none), and the
    /// state file's size, which the journal may grow to before it is folded in.
    journal: Mutex<(Option<Stamp>, u64)>,
}

/// One recorded step: the resources it put and the addresses it removed.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    lineage: String,
    serial: u64,
    #[serde(default)]
    put: Vec<super::ResourceState>,
    #[serde(default)]
    removed: Vec<String>,
}

/// What identifies one version of the state file without reading it: every write renames
/// a new file into place, so another writer changes at least the inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp { inode, len: m.len(), modified: m.modified().ok() })
}

impl LocalStore {
    pub fn new(path: PathBuf) -> LocalStore {
        LocalStore {
            path,
            lock_file: Mutex::new(None),
            seen: Mutex::new(None),
            lineage: Mutex::new(None),
            backed_up: Mutex::new(false),
            journal: Mutex::new((None, 0)),
        }
    }

    fn journal_path(&self) -> PathBuf {
        sibling(&self.path, ".journal")
    }

    /// Replay the journal onto `state`: entries of its lineage with a higher serial, in
    /// order. The last line may be torn (killed while appending): it is ignored.
    fn replay(&self, state: &mut State) -> Result<(), StateError> {
        let bytes = match fs::read(self.journal_path()) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("cannot read the state journal", &self.journal_path())(e)),
        };
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for line in bytes[..complete].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            // As strict as the state file: no key twice, no serial that cannot grow.
            let corrupt =
                |detail: String| StateError::Corrupt { origin: self.journal_path().display().to_string(), detail };
            let entry: Entry = crate::json::parse_strict(line)
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                .map_err(corrupt)?;
            if entry.serial > super::MAX_SERIAL {
                return Err(corrupt(format!(
                    "`serial` is {}, more than the largest serial, {}",
                    entry.serial,
                    super::MAX_SERIAL
                )));
            }
            if entry.lineage != state.lineage || entry.serial <= state.serial {
                continue;
            }
            for r in entry.put {
                state.put(r);
            }
            for a in entry.removed {
                state.remove(&a);
            }
            state.serial = entry.serial;
        }
        Ok(())
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    /// The state file's identity now, refusing a file someone else wrote (or replaced by
    /// another lineage) since this store last read or wrote it.
    fn unchanged(&self, state: &State) -> Result<Option<Stamp>, StateError> {
        let now = stamp(&self.path);
        let seen = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let lineage = self.lineage.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if now.is_some() && (now != seen || lineage.as_deref().is_some_and(|l| l != state.lineage)) {
            return Err(StateError::Conflict { origin: self.location() });
        }
        Ok(now)
    }
}

/// A length in bytes, for comparing with file sizes.
fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// `path` with `suffix` added to its file name: `dev.json.lock`, `dev.json.journal`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.to_path_buf().into_os_string();
    p.push(suffix);
    PathBuf::from(p)
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let origin = path.display().to_string();
    move |source| StateError::Io { what, origin, source }
}

/// Run file work off the async workers (calls in flight keep going meanwhile).
async fn blocking<T: Send + 'static>(
    what: &'static str,
    at: &Path,
    work: impl FnOnce() -> Result<T, StateError> + Send + 'static,
) -> Result<T, StateError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| io(what, at)(std::io::Error::other(e.to_string())))?
}

#[async_trait]
impl StateStore for LocalStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn lock(&self, operation: &str) -> Result<LockInfo, StateError> {
        // Found before any work, never when the first change is to be recorded (a plan
        // only reads).
        if operation != "plan" && fs::metadata(&self.path).is_ok_and(|m| m.permissions().readonly()) {
            return Err(StateError::ReadOnly { origin: self.location() });
        }
        let lp = self.lock_path();
        if let Some(dir) = lp.parent() {
            fs::create_dir_all(dir).map_err(io("cannot create the state directory", dir))?;
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lp)
            .map_err(io("cannot open the lock file", &lp))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = f.read_to_string(&mut text);
                return Err(match serde_json::from_str::<LockInfo>(&text) {
                    Ok(holder) => StateError::Locked { holder: Box::new(holder), force_unlock: None },
                    Err(e) => StateError::LockGarbage { origin: lp.display().to_string(), detail: e.to_string() },
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("cannot lock", &lp)(e)),
        }
        let info = LockInfo::new(operation, &lp.display().to_string());
        f.set_len(0).map_err(io("cannot write the lock file", &lp))?;
        f.rewind().map_err(io("cannot write the lock file", &lp))?;
        f.write_all(&serde_json::to_vec_pretty(&info).unwrap_or_default())
            .and_then(|_| f.sync_all())
            .map_err(io("cannot write the lock file", &lp))?;
        *self.lock_file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        Ok(info)
    }

    async fn unlock(&self, _lock: &LockInfo) -> Result<(), StateError> {
        if let Some(f) = self.lock_file.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = f.set_len(0);
            let _ = f.unlock();
        }
        Ok(())
    }

    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        // An OS lock cannot outlive its process; there is never a stale local lock.
        Err(StateError::NoSuchLock { id: id.into(), origin: self.lock_path().display().to_string(), holder: None })
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot read the state", &self.path)(e)),
        };
        let mut state = State::from_json(&bytes, &self.location())?;
        self.replay(&mut state)?;
        *self.journal.lock().unwrap_or_else(|e| e.into_inner()) = (stamp(&self.journal_path()), len(&bytes));
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = stamp(&self.path);
        *self.lineage.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.lineage.clone());
        Ok(Some(state))
    }

    async fn record(&self, state: &State, changed: &[String]) -> Result<(), StateError> {
        self.append(state, changed).await
    }

    async fn write(&self, state: &State) -> Result<(), StateError> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        fs::create_dir_all(&dir).map_err(io("cannot create the state directory", &dir))?;
        // Refuse to roll back: the file must be the one we last read or wrote (checked by
        // its identity, never by reading and parsing it again), and of the same lineage.
        let now = self.unchanged(state)?;
        let backup = {
            let mut done = self.backed_up.lock().unwrap_or_else(|e| e.into_inner());
            // Once per run: the state as it was before it (or, for a new state, its first
            // version). Copying it on every write would cost the whole file each step.
            let first = !*done && now.is_some();
            *done |= first;
            first
        };
        let bytes = state.to_json();
        let state_len = len(&bytes);
        let path = self.path.clone();
        blocking("cannot write the state", &self.path, move || write_file(&path, &dir, &bytes, backup)).await?;
        // Everything the journal held is in the state file now.
        match fs::remove_file(self.journal_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("cannot remove the state journal", &self.journal_path())(e))
            }
            _ => {}
        }
        *self.journal.lock().unwrap_or_else(|e| e.into_inner()) = (None, state_len);
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = stamp(&self.path);
        *self.lineage.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.lineage.clone());
        Ok(())
    }
}

impl LocalStore {
    /// Append one step to the journal and sync it; fold the journal into the state file
    /// instead when there is no state file yet or the journal has grown as large as it.
    async fn append(&self, state: &State, changed: &[String]) -> Result<(), StateError> {
        let (journal_seen, state_len) = *self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let journal_now = stamp(&self.journal_path());
        if stamp(&self.path).is_none() || journal_now.map_or(0, |j| j.len) >= state_len {
            return self.write(state).await;
        }
        self.unchanged(state)?;
        if journal_now != journal_seen {
            return Err(StateError::Conflict { origin: self.location() });
        }
        let mut entry =
            Entry { lineage: state.lineage.clone(), serial: state.serial, put: Vec::new(), removed: Vec::new() };
        for a in changed {
            match state.get(a) {
                Some(r) => entry.put.push(r.clone()),
                None => entry.removed.push(a.clone()),
            }
        }
        let mut line = serde_json::to_vec(&entry).unwrap_or_default();
        line.push(b'\n');
        let path = self.journal_path();
        let what = "cannot append to the state journal";
        blocking(what, &path.clone(), move || {
            let mut f = OpenOptions::new().create(true).append(true).open(&path).map_err(io(what, &path))?;
            f.write_all(&line).and_then(|_| f.sync_data()).map_err(io(what, &path))
        })
        .await?;
        self.journal.lock().unwrap_or_else(|e| e.into_inner()).0 = stamp(&self.journal_path());
        Ok(())
    }
}

/// Keep the old state as `.backup` (the first write of a run), then write `bytes` to a
/// temporary file, sync it, rename it over `path` and sync the directory.
fn write_file(path: &Path, dir: &Path, bytes: &[u8], backup: bool) -> Result<(), StateError> {
    if backup {
        let b = sibling(path, ".backup");
        fs::copy(path, &b).map_err(io("cannot write the state backup", &b))?;
    }
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    {
        let mut f = File::create(&tmp).map_err(io("cannot write the state", &tmp))?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io("cannot write the state", &tmp))?;
    }
    fs::rename(&tmp, path).map_err(io("cannot replace the state", path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_backup_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/dev.json");
        let a = LocalStore::new(path.clone());
        assert_eq!(a.read().await.unwrap(), None);
        let lock = a.lock("apply").await.unwrap();
        let b = LocalStore::new(path.clone());
        match b.lock("plan").await {
            Err(StateError::Locked { holder, .. }) => assert_eq!(holder.id, lock.id),
            other => panic!("expected Locked, got {other:?}"),
        }
        let mut s = State::new("qs", "dev");
        s.serial = 1;
        a.write(&s).await.unwrap();
        s.serial = 2;
        a.write(&s).await.unwrap();
        assert!(dir.path().join("s/dev.json.backup").exists());
        // Kept once per run: a third write leaves the backup as it was.
        let backup = fs::read(dir.path().join("s/dev.json.backup")).unwrap();
        s.serial = 3;
        a.write(&s).await.unwrap();
        assert_eq!(fs::read(dir.path().join("s/dev.json.backup")).unwrap(), backup);
        assert_eq!(State::from_json(&backup, "b").unwrap().serial, 1);
        a.unlock(&lock).await.unwrap();
        b.lock("plan").await.unwrap();
        assert_eq!(b.read().await.unwrap().unwrap().serial, 3);
    }

    fn vpc(address: &str, id: &str) -> super::super::ResourceState {
        super::super::ResourceState {
            address: address.into(),
            ty: "aws.ec2.vpc".into(),
            id: id.into(),
            properties: Default::default(),
            attributes: Default::default(),
            dependencies: vec![],
            pending: None,
            sensitive: vec![],
        }
    }

    #[tokio::test]
    async fn steps_are_appended_replayed_and_folded_and_a_torn_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.json");
        let a = LocalStore::new(path.clone());
        let mut s = State::new("qs", "dev");
        s.put(vpc("base", "vpc-0"));
        for i in 0..20 {
            s.put(vpc(&format!("filler{i:02}"), &"x".repeat(200)));
        }
        s.serial = 1;
        a.record(&s, &["base".into()]).await.unwrap();
        assert!(!a.journal_path().exists(), "the first write of a state is whole");
        let whole = fs::read(&path).unwrap();
        // Steps: one put, one removal. The state file is not rewritten.
        s.put(vpc("app", "vpc-1"));
        s.serial = 2;
        a.record(&s, &["app".into()]).await.unwrap();
        s.remove("base");
        s.serial = 3;
        a.record(&s, &["base".into()]).await.unwrap();
        assert_eq!(fs::read(&path).unwrap(), whole, "recording a step does not rewrite the state file");
        let journal = fs::read(a.journal_path()).unwrap();
        assert!(journal.len() < whole.len() / 4, "a step costs what it changed: {} bytes", journal.len());
        // A reader replays the journal (as after `kill -9`), and ignores a torn last line.
        let mut torn = journal.clone();
        torn.extend_from_slice(br#"{"lineage":"#);
        fs::write(a.journal_path(), &torn).unwrap();
        let b = LocalStore::new(path.clone());
        assert_eq!(b.read().await.unwrap().unwrap(), s);
        // Folding: a whole write takes the journal in and removes it.
        s.serial = 4;
        b.write(&s).await.unwrap();
        assert!(!b.journal_path().exists());
        assert_eq!(LocalStore::new(path.clone()).read().await.unwrap().unwrap(), s);
        // A line written twice over, or whose serial cannot grow, is refused like state.
        for line in [
            format!("{{\"lineage\":\"{0}\",\"lineage\":\"{0}\",\"serial\":9}}\n", s.lineage),
            format!("{{\"lineage\":\"{}\",\"serial\":{}}}\n", s.lineage, u64::MAX),
        ] {
            fs::write(b.journal_path(), &line).unwrap();
            assert!(matches!(LocalStore::new(path.clone()).read().await, Err(StateError::Corrupt { .. })), "{line}");
        }
        // A corrupt line that is not the last is an error, not silently skipped.
        fs::write(b.journal_path(), b"not json\n{}\n").unwrap();
        assert!(matches!(LocalStore::new(path).read().await, Err(StateError::Corrupt { .. })));
    }

    #[tokio::test]
    async fn the_journal_is_folded_once_it_is_as_large_as_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.json");
        let a = LocalStore::new(path.clone());
        let mut s = State::new("qs", "dev");
        for i in 0..200 {
            s.serial += 1;
            s.put(vpc(&format!("r{i:03}"), "vpc"));
            a.record(&s, &[format!("r{i:03}")]).await.unwrap();
            let state = fs::metadata(&path).unwrap().len();
            let journal = fs::metadata(a.journal_path()).map(|m| m.len()).unwrap_or(0);
            assert!(journal <= state + 512, "step {i}: journal {journal} bytes, state {state}");
        }
        assert_eq!(LocalStore::new(path).read().await.unwrap().unwrap(), s);
    }

    #[tokio::test]
    async fn concurrent_writer_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.json");
        let a = LocalStore::new(path.clone());
        let b = LocalStore::new(path.clone());
        let s = State::new("qs", "dev");
        a.write(&s).await.unwrap();
        b.read().await.unwrap();
        let mut s2 = s.clone();
        s2.serial = 1;
        b.write(&s2).await.unwrap();
        let mut s3 = s.clone();
        s3.serial = 1;
        assert!(matches!(a.write(&s3).await, Err(StateError::Conflict { .. })));
    }

    #[test]
    fn rejects_newer_and_corrupt_state() {
        assert!(matches!(State::from_json(b"{\"format_version\": 99}", "x"), Err(StateError::NewerVersion { .. })));
        assert!(matches!(State::from_json(b"{\"format_vers", "x"), Err(StateError::Corrupt { .. })));
        assert!(matches!(State::from_json(b"[]", "x"), Err(StateError::Corrupt { .. })));
    }
}
