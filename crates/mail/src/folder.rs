//! The default transport: one `.eml` file per message in a folder, so that a
//! first run (and the end-to-end tests) need no mail server.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ferry_ports::mail::{MailError, MailTransport};
use ferry_ports::records::OutgoingMail;

use crate::message::{self, ConfigError, FromAddress};

/// Writes each message as `<id>.eml` into a folder. Ids are UUIDv7, so the
/// files sort in the order they were written.
///
/// A file appears whole or not at all: it is written to a hidden temporary
/// file in the same folder, flushed to disk, then renamed into place. A
/// reader that lists `*.eml` never sees a partial message.
#[derive(Debug, Clone)]
pub struct OutboxFolder {
    dir: PathBuf,
    from: FromAddress,
}

impl OutboxFolder {
    /// Uses `dir` (created if missing) for messages from `from`.
    ///
    /// # Errors
    /// [`ConfigError::Folder`] when the folder cannot be created.
    pub fn new(dir: impl Into<PathBuf>, from: FromAddress) -> Result<Self, ConfigError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| ConfigError::Folder { path: dir.display().to_string(), reason: e.to_string() })?;
        Ok(Self { dir, from })
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl MailTransport for OutboxFolder {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let built = message::build(&self.from, mail)?;
        let bytes = built.message.formatted();
        let dir = self.dir.clone();
        let name = format!("{}.eml", built.id);
        tokio::task::spawn_blocking(move || write_atomically(&dir, &name, |file| file.write_all(&bytes)))
            .await
            .map_err(|e| MailError::Unavailable(format!("the outbox writer stopped: {e}")))?
            // A full disk or a missing folder may be fixed by the operator: retry later.
            .map_err(|e| MailError::Unavailable(format!("cannot write to the outbox folder: {e}")))
    }
}

/// Writes `dir/name` through a temporary file in `dir`: `write` fills it, it
/// is flushed to disk and renamed into place, and the folder entry is synced.
/// On any error the temporary file is removed and `dir/name` does not exist.
fn write_atomically(dir: &Path, name: &str, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    // The temporary file's name starts with a dot and does not end in
    // `.eml`, so nothing that looks for messages picks it up.
    let mut temp = tempfile::Builder::new().prefix(".writing-").suffix(".tmp").tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    // INVARIANT: the temporary file is in `dir`, so this is a rename within
    // one file system, which is atomic.
    temp.persist_noclobber(dir.join(name)).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Makes the rename durable (on Unix a directory entry is synced through the directory).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(dir.path(), "a.eml", |file| {
            file.write_all(b"From: half a message\r\n")?;
            Err(io::Error::other("the disk is full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the disk is full");
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[test]
    fn a_write_appears_whole_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "a.eml", |file| file.write_all(b"whole")).unwrap();
        assert_eq!(entries(dir.path()), vec!["a.eml".to_owned()]);
        assert_eq!(std::fs::read(dir.path().join("a.eml")).unwrap(), b"whole");
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "a.eml", |file| file.write_all(b"first")).unwrap();
        assert!(write_atomically(dir.path(), "a.eml", |file| file.write_all(b"second")).is_err());
        assert_eq!(std::fs::read(dir.path().join("a.eml")).unwrap(), b"first");
        assert_eq!(entries(dir.path()), vec!["a.eml".to_owned()]);
    }
}
