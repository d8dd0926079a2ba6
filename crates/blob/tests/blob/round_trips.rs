//! Files of every awkward size come back byte for byte, with their SHA-256.

use ferry_ports::blob::BlobStore;

use crate::harness::{CHUNK, KEY_1, content, key, read, sha256, stores, upload};

#[tokio::test]
async fn files_of_every_awkward_size_round_trip_with_their_sha256() {
    for t in stores(KEY_1) {
        let sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, t.multi_part];
        for (seed, size) in sizes.into_iter().enumerate() {
            let data = content(size, seed as u64);
            // One write, writes smaller than a chunk, and writes larger than one.
            for piece in [size.max(1), 7_919, 3 * CHUNK + 17] {
                let k = key(&format!("documents/size-{size}-piece-{piece}"));
                let receipt = upload(&t.store, &k, &data, piece).await;
                assert_eq!(receipt.size, size as u64, "{}: size {size}", t.name);
                assert_eq!(receipt.sha256, sha256(&data), "{}: size {size}", t.name);
                let back = read(&t.store, &k, None).await.unwrap();
                assert!(back == data, "{}: size {size}, writes of {piece}: content differs", t.name);
            }
        }
    }
}

#[tokio::test]
async fn content_is_encrypted_at_rest() {
    for t in stores(KEY_1) {
        let data = b"Quarterly VAT return, ACME Ltd, owes 12,345.67".repeat(1_000);
        let k = key("documents/secret");
        upload(&t.store, &k, &data, data.len()).await;
        let stored = t.store.read_stored(&k).await.unwrap();
        assert!(stored.len() > data.len(), "{}: stored with a header and tags", t.name);
        let needle = b"ACME Ltd";
        assert!(!stored.windows(needle.len()).any(|w| w == needle), "{}: plaintext found at rest", t.name);

        // The same content stored twice shares nothing: each file has its own key.
        let again = key("documents/secret-again");
        upload(&t.store, &again, &data, data.len()).await;
        let stored_again = t.store.read_stored(&again).await.unwrap();
        assert_eq!(stored.len(), stored_again.len());
        assert_ne!(stored[200..264], stored_again[200..264], "{}", t.name);
    }
}

#[tokio::test]
async fn a_new_upload_replaces_a_committed_file() {
    for t in stores(KEY_1) {
        let k = key("documents/replaced");
        upload(&t.store, &k, &content(CHUNK + 5, 1), CHUNK).await;
        let second = content(t.multi_part, 2);
        upload(&t.store, &k, &second, 100_000).await;
        assert!(read(&t.store, &k, None).await.unwrap() == second, "{}", t.name);
        assert!(t.store.exists(&k).await.unwrap());
    }
}
