//! One store per backend, and helpers to write and read whole files.

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, Keyring};
use ferry_ports::blob::{BlobError, BlobKey, BlobReceipt, BlobStore, ByteRange};
use sha2::{Digest as _, Sha256};

/// Plaintext bytes per chunk in every test store (the production default).
pub(crate) const CHUNK: usize = 64 * 1024;

pub(crate) const KEY_1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub(crate) const KEY_2: &str = "k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

pub(crate) fn keyring(config: &str) -> Keyring {
    Keyring::parse(config).unwrap()
}

/// A store on one backend, and what it needs to stay alive.
pub(crate) struct TestStore {
    pub(crate) name: &'static str,
    pub(crate) store: EncryptedBlobStore,
    /// The folder of a local store, to look at what it leaves on disk.
    pub(crate) folder: Option<tempfile::TempDir>,
    /// A size that spans several parts on this backend (three or more, two on S3).
    pub(crate) multi_part: usize,
}

/// Every backend this machine can test, with `keyring`.
pub(crate) fn stores(keys: &str) -> Vec<TestStore> {
    // Small parts (three chunks, doubling every two parts) so that a few
    // hundred KiB cross several part boundaries and the part size grows.
    let small_parts = BlobOptions::default().part_size(3 * CHUNK).parts_per_doubling(2);
    let mut stores = vec![TestStore {
        name: "memory",
        store: EncryptedBlobStore::open(&BlobLocation::memory(), keyring(keys), small_parts.clone()).unwrap(),
        folder: None,
        multi_part: 10 * CHUNK + 1234,
    }];
    let folder = tempfile::tempdir().unwrap();
    stores.push(TestStore {
        name: "folder",
        store: EncryptedBlobStore::open(&BlobLocation::folder(folder.path()), keyring(keys), small_parts).unwrap(),
        folder: Some(folder),
        multi_part: 10 * CHUNK + 1234,
    });
    if let Some(location) = s3_location() {
        // S3's smallest part is 5 MiB, so two parts are enough to cross a
        // part boundary (the growth of part sizes is a unit test).
        let options = BlobOptions::default().part_size(5 * 1024 * 1024);
        stores.push(TestStore {
            name: "s3",
            store: EncryptedBlobStore::open(&location, keyring(keys), options).unwrap(),
            folder: None,
            multi_part: 6 * 1024 * 1024 + 1234,
        });
    }
    stores
}

/// A fresh prefix on the test S3 server, or `None` (with the reason printed)
/// when none is configured.
fn s3_location() -> Option<BlobLocation> {
    let (endpoint, bucket) = match (std::env::var("FERRY_TEST_S3_ENDPOINT"), std::env::var("FERRY_TEST_S3_BUCKET")) {
        (Ok(endpoint), Ok(bucket)) => (endpoint, bucket),
        (Err(_), _) => {
            eprintln!("skipping the S3 backend: FERRY_TEST_S3_ENDPOINT is not set (.ci/run starts a server)");
            return None;
        }
        (_, Err(_)) => {
            eprintln!("skipping the S3 backend: FERRY_TEST_S3_BUCKET is not set");
            return None;
        }
    };
    let prefix = format!("test-{}-{}", std::process::id(), unique());
    Some(BlobLocation::parse(&format!("s3://{bucket}/{prefix}?endpoint={endpoint}")).unwrap())
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    u64::from(nanos) << 16 | NEXT.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn key(name: &str) -> BlobKey {
    BlobKey::parse(name).unwrap()
}

/// `len` bytes that differ from any other `seed`'s.
pub(crate) fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Uploads `data` in writes of `piece` bytes and commits.
pub(crate) async fn upload(store: &EncryptedBlobStore, key: &BlobKey, data: &[u8], piece: usize) -> BlobReceipt {
    let mut upload = store.begin_upload(key).await.unwrap();
    for part in data.chunks(piece.max(1)) {
        upload.write(part).await.unwrap();
    }
    upload.commit().await.unwrap()
}

/// Reads `key` (or `range` of it) to the end, or the first error.
pub(crate) async fn read(
    store: &EncryptedBlobStore,
    key: &BlobKey,
    range: Option<(u64, u64)>,
) -> Result<Vec<u8>, BlobError> {
    let range = range.map(|(start, end)| ByteRange { start, end });
    let mut download = store.open(key, range).await?;
    let mut out = Vec::new();
    while let Some(piece) = download.next_chunk().await? {
        assert!(!piece.is_empty(), "a download returned an empty piece");
        out.extend_from_slice(&piece);
    }
    Ok(out)
}

/// The error's variant name, so tests can compare errors that are not `PartialEq`.
pub(crate) fn kind<T>(result: &Result<T, BlobError>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(BlobError::NotFound) => "NotFound",
        Err(BlobError::WrongKey) => "WrongKey",
        Err(BlobError::Corrupted) => "Corrupted",
        Err(BlobError::RangeNotSatisfiable) => "RangeNotSatisfiable",
        Err(BlobError::Unavailable(_)) => "Unavailable",
    }
}

/// Every file under `folder`, relative to it.
pub(crate) fn files_in(folder: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(folder, folder, &mut out);
    out.sort();
    out
}
