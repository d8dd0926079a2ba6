//! Master keys: the keyring from configuration.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use zeroize::Zeroizing;

/// The environment variable the servers read the keyring from.
pub const MASTER_KEYS_VAR: &str = "FERRY_MASTER_KEYS";

/// Longest master key id, in bytes.
pub(crate) const KEY_ID_MAX: usize = 32;

/// Standard base64, with or without the trailing `=`.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a keyring configuration was refused. Messages name the entry and
/// what is wrong with it, never the key material (nor an id that failed to
/// parse, since it may be a key written in the wrong place).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// Nothing was configured.
    #[error("no master key is configured: set {MASTER_KEYS_VAR} to id:base64key, newest first")]
    Empty,
    /// An entry between commas is blank.
    #[error("master key entry {position} is empty: remove the extra comma")]
    EmptyEntry {
        /// 1-based position of the entry.
        position: usize,
    },
    /// An entry has no `id:` part.
    #[error("master key entry {position} has no id: write it as id:base64key")]
    MissingId {
        /// 1-based position of the entry.
        position: usize,
    },
    /// An entry's id has characters outside the allowed set, or is too long.
    #[error("master key entry {position} has an invalid id: use 1 to 32 letters, digits, '.', '_' or '-'")]
    InvalidId {
        /// 1-based position of the entry.
        position: usize,
    },
    /// The key after `id:` is not base64.
    #[error("master key `{id}` is not valid base64")]
    InvalidBase64 {
        /// The key's id.
        id: String,
    },
    /// The key does not decode to 32 bytes.
    #[error("master key `{id}` is {len} bytes long; it must be 32 bytes (44 base64 characters)")]
    WrongLength {
        /// The key's id.
        id: String,
        /// Its decoded length.
        len: usize,
    },
    /// Two entries share an id.
    #[error("master key id `{id}` appears more than once")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// The operating system gave no random numbers.
    #[error("no random numbers to make a key from: {0}")]
    NoRandomness(String),
}

/// One master key: an id stored in every header it wraps, and its cipher.
pub(crate) struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl MasterKey {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).field("key", &"<redacted>").finish()
    }
}

/// The master keys that wrap every file's data key: the first is current
/// (new files use it), the others stay readable so keys can be rotated.
///
/// Parsed from `id:base64key[,id:base64key...]` (see [`Keyring::parse`]).
/// Its `Debug` output shows ids only. The key material lives in AES key
/// schedules that are zeroed when the keyring is dropped.
///
/// ```
/// let ring = ferry_blob::Keyring::parse(
///     "2025:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=, 2024:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
/// )?;
/// assert_eq!(ring.current_id(), "2025");
/// assert!(!format!("{ring:?}").contains("ICEi"));
/// # Ok::<(), ferry_blob::KeyringError>(())
/// ```
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("ids", &self.ids().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Keyring {
    /// Parses `id:base64key[,id:base64key...]`, newest (current) first.
    ///
    /// Ids are 1 to 32 letters, digits, `.`, `_` or `-`; keys are 32 bytes
    /// in standard base64 (padding optional). Spaces around entries are
    /// ignored.
    ///
    /// # Errors
    /// A [`KeyringError`] naming the entry at fault and what is wrong with it.
    pub fn parse(config: &str) -> Result<Self, KeyringError> {
        if config.trim().is_empty() {
            return Err(KeyringError::Empty);
        }
        let mut keys: Vec<MasterKey> = Vec::new();
        for (index, entry) in config.split(',').enumerate() {
            let position = index + 1;
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(KeyringError::EmptyEntry { position });
            }
            let Some((id, key)) = entry.split_once(':') else {
                return Err(KeyringError::MissingId { position });
            };
            let id = id.trim();
            if !valid_id(id) {
                return Err(KeyringError::InvalidId { position });
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(KeyringError::DuplicateId { id: id.to_owned() });
            }
            let bytes = Zeroizing::new(
                BASE64.decode(key.trim()).map_err(|_| KeyringError::InvalidBase64 { id: id.to_owned() })?,
            );
            if bytes.len() != 32 {
                return Err(KeyringError::WrongLength { id: id.to_owned(), len: bytes.len() });
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes).expect("a 32-byte key fits AES-256");
            keys.push(MasterKey { id: id.to_owned(), cipher });
        }
        Ok(Self { keys })
    }

    /// Makes a new entry `id:base64key` with a fresh random key, for an
    /// operator to put first in the configuration.
    ///
    /// # Errors
    /// [`KeyringError::InvalidId`] for an id outside the allowed set, or
    /// [`KeyringError::NoRandomness`].
    pub fn generate_entry(id: &str) -> Result<String, KeyringError> {
        if !valid_id(id) {
            return Err(KeyringError::InvalidId { position: 1 });
        }
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut_slice()).map_err(|e| KeyringError::NoRandomness(e.to_string()))?;
        Ok(format!("{id}:{}", general_purpose::STANDARD.encode(key.as_slice())))
    }

    /// The id of the key new files are wrapped with.
    #[must_use]
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    /// Every id, current first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    pub(crate) fn current(&self) -> &MasterKey {
        // INVARIANT: `parse` refuses an empty configuration, so there is a first key.
        &self.keys[0]
    }

    pub(crate) fn get(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// Where the keyring in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `FERRY_MASTER_KEYS` setting.
    Setting,
    /// The key file, as found.
    File(std::path::PathBuf),
    /// The key file, made now with a fresh key because none existed.
    Created(std::path::PathBuf),
}

/// Why the key file could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file or the setting holds a bad keyring.
    #[error("{setting}: {error}")]
    Invalid {
        /// The setting or file at fault.
        setting: String,
        /// What is wrong.
        error: KeyringError,
    },
    /// Users other than its owner may read or change the key file.
    #[error(
        "{path} may be read or changed by users other than its owner (mode {mode:o}): run `chmod 600 {path}` \
         (and ask who may have copied it)"
    )]
    Exposed {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file cannot be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The key file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
}

impl Keyring {
    /// The keyring of an installation: the `FERRY_MASTER_KEYS` setting when
    /// given (`setting`), else the key file at `file`, which is made with one
    /// fresh key (readable by its owner only) when it does not exist, so an
    /// installation on its embedded defaults encrypts at rest from its first
    /// file. An existing file that users other than its owner may read or
    /// change is refused. Both binaries use this, so they read the same files.
    ///
    /// # Errors
    /// [`KeyFileError`] naming the setting or file at fault.
    pub fn load_or_create(setting: Option<&str>, file: &std::path::Path) -> Result<(Self, KeySource), KeyFileError> {
        if let Some(value) = setting.filter(|v| !v.trim().is_empty()) {
            let ring =
                Self::parse(value).map_err(|error| KeyFileError::Invalid { setting: MASTER_KEYS_VAR.into(), error })?;
            return Ok((ring, KeySource::Setting));
        }
        let io = |error| KeyFileError::Io { path: file.display().to_string(), error };
        match std::fs::read_to_string(file) {
            Ok(text) => {
                check_private(file).map_err(io)??;
                let ring = Self::parse(text.trim())
                    .map_err(|error| KeyFileError::Invalid { setting: file.display().to_string(), error })?;
                Ok((ring, KeySource::File(file.to_path_buf())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let entry = Self::generate_entry("k1")
                    .map_err(|error| KeyFileError::Invalid { setting: file.display().to_string(), error })?;
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                write_new_private(file, entry.as_bytes()).map_err(io)?;
                let ring = Self::parse(&entry)
                    .map_err(|error| KeyFileError::Invalid { setting: file.display().to_string(), error })?;
                Ok((ring, KeySource::Created(file.to_path_buf())))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Refuses a key file that users other than its owner may read or change
/// (on Unix; elsewhere the folder's access control is the operator's).
/// The outer error is the file's metadata that could not be read.
fn check_private(file: &std::path::Path) -> std::io::Result<Result<(), KeyFileError>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Ok(Err(KeyFileError::Exposed { path: file.display().to_string(), mode }));
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(Ok(()))
}

/// Writes a new file that only its owner may read; fails if it exists.
fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= KEY_ID_MAX
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn check(config: &str, expect: Result<&[&str], KeyringError>) {
        let got = Keyring::parse(config);
        match (got, expect) {
            (Ok(ring), Ok(ids)) => assert_eq!(ring.ids().collect::<Vec<_>>(), ids, "{config}"),
            (Err(got), Err(want)) => assert_eq!(got, want, "{config}"),
            (got, want) => panic!("{config}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_keyrings_and_names_what_is_wrong() {
        check(&format!("a:{KEY}"), Ok(&["a"]));
        check(&format!(" new:{KEY} , old.1:{} ", KEY.trim_end_matches('=')), Ok(&["new", "old.1"]));
        check("", Err(KeyringError::Empty));
        check("  ", Err(KeyringError::Empty));
        check(&format!("a:{KEY},"), Err(KeyringError::EmptyEntry { position: 2 }));
        check(KEY, Err(KeyringError::MissingId { position: 1 }));
        check(&format!(":{KEY}"), Err(KeyringError::InvalidId { position: 1 }));
        check(&format!("a b:{KEY}"), Err(KeyringError::InvalidId { position: 1 }));
        check(&format!("{}:{KEY}", "x".repeat(33)), Err(KeyringError::InvalidId { position: 1 }));
        check("a:not base64!", Err(KeyringError::InvalidBase64 { id: "a".into() }));
        check("a:AAEC", Err(KeyringError::WrongLength { id: "a".into(), len: 3 }));
        check(&format!("a:{KEY},a:{KEY}"), Err(KeyringError::DuplicateId { id: "a".into() }));
    }

    #[test]
    fn errors_and_debug_never_show_key_material() {
        let ring = Keyring::parse(&format!("a:{KEY}")).unwrap();
        assert!(!format!("{ring:?}").contains(&KEY[..8]));
        // A key written where the id belongs is not echoed back.
        let error = Keyring::parse(&format!("{KEY}:a")).unwrap_err();
        assert!(!error.to_string().contains(&KEY[..8]), "{error}");
    }

    #[test]
    fn generated_entries_parse() {
        let entry = Keyring::generate_entry("2025-01").unwrap();
        let ring = Keyring::parse(&entry).unwrap();
        assert_eq!(ring.current_id(), "2025-01");
        assert_ne!(entry, Keyring::generate_entry("2025-01").unwrap());
        assert_eq!(Keyring::generate_entry("no spaces").unwrap_err(), KeyringError::InvalidId { position: 1 });
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused_with_the_chmod_to_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master.keys");
        Keyring::load_or_create(None, &file).unwrap();
        for mode in [0o640, 0o604, 0o660, 0o666] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = Keyring::load_or_create(None, &file).unwrap_err().to_string();
            assert!(error.contains(&format!("chmod 600 {}", file.display())), "{mode:o}: {error}");
            assert!(error.contains(&format!("{mode:o}")), "{mode:o}: {error}");
        }
        // Its owner alone (reading, or reading and writing) is fine.
        for mode in [0o600, 0o400] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(Keyring::load_or_create(None, &file).is_ok(), "{mode:o}");
        }
    }

    #[test]
    fn the_key_file_is_made_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys").join("master.keys");
        let (first, source) = Keyring::load_or_create(None, &file).unwrap();
        assert_eq!(source, KeySource::Created(file.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (again, source) = Keyring::load_or_create(Some("  "), &file).unwrap();
        assert_eq!(source, KeySource::File(file.clone()));
        assert_eq!(again.current_id(), first.current_id());
        let (set, source) = Keyring::load_or_create(Some(&format!("op:{KEY}")), &file).unwrap();
        assert_eq!((set.current_id(), source), ("op", KeySource::Setting));
        let bad = Keyring::load_or_create(Some("op:short"), &file).unwrap_err().to_string();
        assert!(bad.starts_with("FERRY_MASTER_KEYS: "), "{bad}");
        std::fs::write(&file, "garbage").unwrap();
        let bad = Keyring::load_or_create(None, &file).unwrap_err().to_string();
        assert!(bad.contains("master.keys"), "{bad}");
    }
}
