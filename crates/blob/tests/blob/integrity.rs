//! Tampering, truncation, reordering and wrong keys each give their error.

use ferry_ports::blob::BlobStore;

use crate::harness::{CHUNK, KEY_1, KEY_2, content, key, keyring, kind, read, stores, upload};

/// Stored header length and stored chunk length (see src/format.rs).
const HEADER: usize = 113;
const STORED_CHUNK: usize = CHUNK + 16;

fn chunk_at(index: usize) -> usize {
    HEADER + index * STORED_CHUNK
}

/// A four-chunk file (the last one partial) and its key.
async fn four_chunks(t: &crate::harness::TestStore, name: &str) -> (ferry_ports::blob::BlobKey, Vec<u8>, Vec<u8>) {
    let k = key(&format!("documents/{name}"));
    let data = content(3 * CHUNK + 100, 11);
    upload(&t.store, &k, &data, 10_000).await;
    let stored = t.store.read_stored(&k).await.unwrap();
    assert_eq!(stored.len(), chunk_at(3) + 100 + 16, "the stored layout changed; update this test");
    (k, data, stored)
}

/// Stores `edit(stored)` and checks what whole and range reads say.
async fn check_edit(
    t: &crate::harness::TestStore,
    name: &str,
    edit: impl Fn(&mut Vec<u8>),
    whole: &str,
    ranges: &[((u64, u64), &str)],
) {
    let (k, _, mut stored) = four_chunks(t, name).await;
    edit(&mut stored);
    t.store.write_stored(&k, stored).await.unwrap();
    assert_eq!(kind(&read(&t.store, &k, None).await), whole, "{}: {name}, whole file", t.name);
    for &((start, end), want) in ranges {
        assert_eq!(
            kind(&read(&t.store, &k, Some((start, end))).await),
            want,
            "{}: {name}, range {start}..{end}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_tampered_chunk_is_corrupted_and_only_reads_that_touch_it_fail() {
    let c = CHUNK as u64;
    for t in stores(KEY_1) {
        let flip = |at: usize| move |s: &mut Vec<u8>| s[at] ^= 0x01;
        let ranges: &[((u64, u64), &str)] =
            &[((0, 10), "Ok"), ((c - 1, c), "Ok"), ((c, c + 1), "Corrupted"), ((2 * c, 2 * c + 5), "Ok")];
        check_edit(&t, "tampered-content", flip(chunk_at(1) + 10), "Corrupted", ranges).await;
        check_edit(&t, "tampered-tag", flip(chunk_at(2) - 1), "Corrupted", ranges).await;
        let last = &[((3 * c, 3 * c + 1), "Corrupted"), ((0, 1), "Ok")];
        check_edit(&t, "tampered-last", flip(chunk_at(3) + 3), "Corrupted", last).await;
    }
}

#[tokio::test]
async fn a_truncated_or_extended_file_is_corrupted() {
    let c = CHUNK as u64;
    for t in stores(KEY_1) {
        let cut = |len: usize| move |s: &mut Vec<u8>| s.truncate(len);
        // Cut at a chunk boundary: the new last chunk was not sealed as last.
        check_edit(
            &t,
            "cut-at-chunk",
            cut(chunk_at(3)),
            "Corrupted",
            &[((2 * c, 2 * c + 1), "Corrupted"), ((0, 1), "Ok")],
        )
        .await;
        // Cut inside the last chunk, or down to its bare tag.
        check_edit(&t, "cut-in-chunk", cut(chunk_at(3) + 50), "Corrupted", &[((3 * c, 3 * c + 1), "Corrupted")]).await;
        check_edit(&t, "cut-to-tag", cut(chunk_at(3) + 16), "Corrupted", &[((0, 1), "Corrupted")]).await;
        // Down to the header, into it, or to nothing.
        for len in [HEADER, 50, 0] {
            check_edit(&t, &format!("cut-to-{len}"), cut(len), "Corrupted", &[((0, 0), "Corrupted")]).await;
        }
        // Bytes appended: the old last chunk is no longer last.
        check_edit(
            &t,
            "extended",
            |s: &mut Vec<u8>| s.extend_from_slice(&[0; 40]),
            "Corrupted",
            &[((3 * c, 3 * c + 1), "Corrupted")],
        )
        .await;
    }
}

#[tokio::test]
async fn reordered_chunks_are_corrupted() {
    for t in stores(KEY_1) {
        let swap = |s: &mut Vec<u8>| {
            let first = s[chunk_at(0)..chunk_at(1)].to_vec();
            let second = s[chunk_at(1)..chunk_at(2)].to_vec();
            s[chunk_at(0)..chunk_at(1)].copy_from_slice(&second);
            s[chunk_at(1)..chunk_at(2)].copy_from_slice(&first);
        };
        check_edit(
            &t,
            "reordered",
            swap,
            "Corrupted",
            &[((0, 1), "Corrupted"), ((CHUNK as u64, CHUNK as u64 + 1), "Corrupted")],
        )
        .await;
    }
}

#[tokio::test]
async fn a_wrong_master_key_is_wrong_key() {
    let same_id_other_material = KEY_2.replacen("k2", "k1", 1);
    for t in stores(KEY_1) {
        let (k, data, _) = four_chunks(&t, "keyed").await;
        for ring in [KEY_2, same_id_other_material.as_str()] {
            let other = t.store.with_keyring(keyring(ring));
            assert_eq!(kind(&read(&other, &k, None).await), "WrongKey", "{}: keyring {}", t.name, &ring[..2]);
            assert_eq!(kind(&read(&other, &k, Some((5, 10))).await), "WrongKey", "{}", t.name);
        }
        assert!(read(&t.store, &k, None).await.unwrap() == data);
    }
}

#[tokio::test]
async fn a_file_moved_to_another_key_or_not_ours_is_refused() {
    for t in stores(KEY_1) {
        let (_, _, stored) = four_chunks(&t, "original").await;
        // The key wrap binds the blob's key: a copy does not open elsewhere.
        let moved = key("documents/moved");
        t.store.write_stored(&moved, stored).await.unwrap();
        assert_eq!(kind(&read(&t.store, &moved, None).await), "WrongKey", "{}", t.name);

        let foreign = key("documents/foreign");
        t.store.write_stored(&foreign, b"%PDF-1.7 not written by ferry".repeat(10)).await.unwrap();
        assert_eq!(kind(&read(&t.store, &foreign, None).await), "Corrupted", "{}", t.name);
        assert_eq!(kind(&read(&t.store, &foreign, Some((0, 1))).await), "Corrupted", "{}", t.name);

        let missing = key("documents/missing");
        assert_eq!(kind(&read(&t.store, &missing, None).await), "NotFound", "{}", t.name);
        assert_eq!(kind(&read(&t.store, &missing, Some((0, 1))).await), "NotFound", "{}", t.name);
        assert!(!t.store.exists(&missing).await.unwrap());
    }
}
