//! Visibility: nothing before commit, nothing after an abort or a crash once
//! swept; deletes, existence and listings.

use std::time::Duration;

use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore};
use ferry_ports::blob::{BlobKey, BlobStore};
use time::OffsetDateTime;

use crate::harness::{CHUNK, KEY_1, TestStore, content, files_in, key, kind, read, stores, upload};

/// Starts an upload of `t.multi_part` bytes to `k` (several parts already
/// sent) without finishing it.
async fn unfinished(t: &TestStore, k: &BlobKey) -> Box<dyn ferry_ports::blob::BlobUpload> {
    let mut upload = t.store.begin_upload(k).await.unwrap();
    for piece in content(t.multi_part, 5).chunks(100_000) {
        upload.write(piece).await.unwrap();
    }
    assert!(!t.store.exists(k).await.unwrap(), "{}: visible before commit", t.name);
    assert_eq!(kind(&read(&t.store, k, None).await), "NotFound", "{}", t.name);
    upload
}

/// What is left in a local store's folder (committed blobs aside).
fn leftovers(t: &TestStore) -> Vec<String> {
    t.folder
        .as_ref()
        .map(|f| files_in(f.path()))
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !f.starts_with("blobs/keep"))
        .collect()
}

fn in_an_hour() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(3600)
}

#[tokio::test]
async fn a_file_is_visible_only_once_committed() {
    for t in stores(KEY_1) {
        let k = key("documents/pending");
        let upload = unfinished(&t, &k).await;
        let mut listing = t.store.list(None).await.unwrap();
        assert!(listing.next_batch().await.unwrap().is_none(), "{}: an upload in progress was listed", t.name);
        let receipt = upload.commit().await.unwrap();
        assert_eq!(receipt.size, t.multi_part as u64);
        assert!(t.store.exists(&k).await.unwrap());
        assert!(read(&t.store, &k, None).await.unwrap() == content(t.multi_part, 5), "{}", t.name);
        // Committing leaves no marker behind for the sweep.
        assert_eq!(t.store.sweep(in_an_hour()).await.unwrap(), 0, "{}", t.name);
        if t.folder.is_some() {
            assert_eq!(leftovers(&t), ["blobs/documents/pending"], "{}: temporary files left", t.name);
        }
    }
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing() {
    for t in stores(KEY_1) {
        let keep = key("keep/committed");
        upload(&t.store, &keep, &content(CHUNK, 1), CHUNK).await;
        for size in [10, t.multi_part] {
            let k = key(&format!("documents/aborted-{size}"));
            let mut upload = t.store.begin_upload(&k).await.unwrap();
            upload.write(&content(size, 2)).await.unwrap();
            upload.abort().await.unwrap();
            assert!(!t.store.exists(&k).await.unwrap(), "{}: aborted upload visible", t.name);
            assert_eq!(kind(&read(&t.store, &k, None).await), "NotFound");
        }
        assert_eq!(leftovers(&t), Vec::<String>::new(), "{}: files left by an abort", t.name);
        assert_eq!(t.store.sweep(in_an_hour()).await.unwrap(), 0, "{}: markers left by an abort", t.name);
        assert!(t.store.exists(&keep).await.unwrap(), "{}: the sweep touched a committed file", t.name);
    }
}

#[tokio::test]
async fn the_sweep_removes_what_a_crashed_upload_left_after_the_grace_period() {
    for t in stores(KEY_1) {
        let keep = key("keep/committed");
        upload(&t.store, &keep, &content(CHUNK, 1), CHUNK).await;
        let k = key("documents/crashed");
        // A crash: the process ends without running any destructor.
        std::mem::forget(unfinished(&t, &k).await);
        assert!(!t.store.exists(&k).await.unwrap());
        if t.folder.is_some() {
            assert!(leftovers(&t).iter().any(|f| f.contains('#')), "{}: expected a temporary file", t.name);
        }
        // Within the grace period, nothing is removed.
        let an_hour_ago = OffsetDateTime::now_utc() - Duration::from_secs(3600);
        assert_eq!(t.store.sweep(an_hour_ago).await.unwrap(), 0, "{}", t.name);
        assert_eq!(t.store.sweep(in_an_hour()).await.unwrap(), 1, "{}", t.name);
        assert_eq!(t.store.sweep(in_an_hour()).await.unwrap(), 0, "{}: swept twice", t.name);
        assert_eq!(leftovers(&t), Vec::<String>::new(), "{}: files left after the sweep", t.name);
        assert!(!t.store.exists(&k).await.unwrap());
        assert!(t.store.exists(&keep).await.unwrap(), "{}: the sweep touched a committed file", t.name);
        // The key is free for a new upload.
        let data = content(CHUNK + 9, 3);
        upload(&t.store, &k, &data, CHUNK).await;
        assert!(read(&t.store, &k, None).await.unwrap() == data, "{}", t.name);
    }
}

#[tokio::test]
async fn a_dropped_upload_is_cleaned_up_in_the_background() {
    for t in stores(KEY_1) {
        let k = key("documents/dropped");
        // A cancelled request drops its upload; the clean-up then runs on
        // the runtime. A folder shows when it is done; other backends get a
        // second.
        drop(unfinished(&t, &k).await);
        if t.folder.is_some() {
            for _ in 0..100 {
                if leftovers(&t).is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert_eq!(leftovers(&t), Vec::<String>::new(), "{}: files left", t.name);
        assert_eq!(t.store.sweep(in_an_hour()).await.unwrap(), 0, "{}: left for the sweep", t.name);
        assert!(!t.store.exists(&k).await.unwrap());
    }
}

#[tokio::test]
async fn deletes_existence_and_listings() {
    for t in stores(KEY_1) {
        let docs = ["documents/a", "documents/b/c", "documents/d"].map(key);
        let other = key("avatars/x");
        for (i, k) in docs.iter().chain([&other]).enumerate() {
            upload(&t.store, k, &content(i * 1000, i as u64), 1000).await;
        }
        let list = |prefix: Option<BlobKey>| {
            let store = t.store.clone();
            async move {
                let mut listing = store.list(prefix.as_ref()).await.unwrap();
                let mut keys = Vec::new();
                while let Some(batch) = listing.next_batch().await.unwrap() {
                    for entry in batch {
                        let age = OffsetDateTime::now_utc() - entry.committed_at;
                        assert!(age.abs() < time::Duration::minutes(5), "committed {age} ago");
                        keys.push(entry.key.as_str().to_owned());
                    }
                }
                keys.sort();
                keys
            }
        };
        assert_eq!(list(Some(key("documents"))).await, ["documents/a", "documents/b/c", "documents/d"], "{}", t.name);
        assert_eq!(list(None).await.len(), 4, "{}", t.name);
        assert_eq!(list(Some(key("nothing"))).await, Vec::<String>::new(), "{}", t.name);

        t.store.delete(&docs[1]).await.unwrap();
        assert!(!t.store.exists(&docs[1]).await.unwrap());
        assert_eq!(kind(&read(&t.store, &docs[1], None).await), "NotFound");
        // Deleting what is not there is not an error.
        t.store.delete(&docs[1]).await.unwrap();
        t.store.delete(&key("never/was")).await.unwrap();
        assert_eq!(list(Some(key("documents"))).await, ["documents/a", "documents/d"], "{}", t.name);
    }
}

#[tokio::test]
async fn a_broken_folder_is_unavailable() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("blobs");
    let store = EncryptedBlobStore::open(
        &BlobLocation::folder(&folder),
        crate::harness::keyring(KEY_1),
        BlobOptions::default(),
    )
    .unwrap();
    let k = key("documents/a");
    upload(&store, &k, b"hello", 5).await;
    // The disk is there, the store's folder is not: a file took its place.
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();

    assert_eq!(kind(&read(&store, &k, None).await), "Unavailable");
    assert_eq!(kind(&store.exists(&k).await), "Unavailable");
    let mut small = store.begin_upload(&k).await.unwrap();
    small.write(b"x").await.unwrap();
    assert_eq!(kind(&small.commit().await), "Unavailable");
    // A large upload fails as soon as its first part would be stored.
    let mut large = store.begin_upload(&k).await.unwrap();
    assert_eq!(kind(&large.write(&content(3 * 1024 * 1024, 1)).await), "Unavailable");
    assert_eq!(kind(&large.write(b"more").await), "Unavailable", "a failed upload takes no more data");
    large.abort().await.unwrap();
    assert_eq!(kind(&store.sweep(in_an_hour()).await), "Unavailable");
}
