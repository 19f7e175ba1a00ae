//! State in a local file. The lock is an OS file lock on `<path>.lock`, so it dies with its
//! process; writes go to a temporary file that is synced and renamed over the old state,
//! after the previous state is copied to `<path>.backup`.

use super::{LockInfo, State, StateError, StateStore};
use async_trait::async_trait;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct LocalStore {
    path: PathBuf,
    lock_file: Mutex<Option<File>>,
    last_serial: Mutex<Option<u64>>,
}

impl LocalStore {
    pub fn new(path: PathBuf) -> LocalStore {
        LocalStore { path, lock_file: Mutex::new(None), last_serial: Mutex::new(None) }
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    fn io(&self, what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
        let origin = path.display().to_string();
        move |source| StateError::Io { what, origin, source }
    }
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
            fs::create_dir_all(dir).map_err(self.io("cannot create the state directory", dir))?;
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lp)
            .map_err(self.io("cannot open the lock file", &lp))?;
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
            Err(fs::TryLockError::Error(e)) => return Err(self.io("cannot lock", &lp)(e)),
        }
        let info = LockInfo::new(operation, &lp.display().to_string());
        f.set_len(0).map_err(self.io("cannot write the lock file", &lp))?;
        f.rewind().map_err(self.io("cannot write the lock file", &lp))?;
        f.write_all(&serde_json::to_vec_pretty(&info).unwrap_or_default())
            .and_then(|_| f.sync_all())
            .map_err(self.io("cannot write the lock file", &lp))?;
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
            Err(e) => return Err(self.io("cannot read the state", &self.path)(e)),
        };
        let state = State::from_json(&bytes, &self.location())?;
        *self.last_serial.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.serial);
        Ok(Some(state))
    }

    async fn write(&self, state: &State) -> Result<(), StateError> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(self.io("cannot create the state directory", dir))?;
        // Refuse to roll back: the file on disk must be what we last read or wrote.
        if let Ok(bytes) = fs::read(&self.path) {
            if let Ok(disk) = State::from_json(&bytes, &self.location()) {
                let last = *self.last_serial.lock().unwrap_or_else(|e| e.into_inner());
                if Some(disk.serial) != last || disk.lineage != state.lineage {
                    return Err(StateError::Conflict { origin: self.location() });
                }
            }
            let mut backup = self.path.clone().into_os_string();
            backup.push(".backup");
            fs::write(&backup, &bytes).map_err(self.io("cannot write the state backup", Path::new(&backup)))?;
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        {
            let mut f = File::create(&tmp).map_err(self.io("cannot write the state", &tmp))?;
            f.write_all(&state.to_json())
                .and_then(|_| f.sync_all())
                .map_err(self.io("cannot write the state", &tmp))?;
        }
        fs::rename(&tmp, &self.path).map_err(self.io("cannot replace the state", &self.path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        *self.last_serial.lock().unwrap_or_else(|e| e.into_inner()) = Some(state.serial);
        Ok(())
    }
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
        a.unlock(&lock).await.unwrap();
        b.lock("plan").await.unwrap();
        assert_eq!(b.read().await.unwrap().unwrap().serial, 2);
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
