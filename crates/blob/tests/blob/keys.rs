//! Master key rotation: a new current key, older files still readable.

use crate::harness::{CHUNK, KEY_1, KEY_2, content, key, keyring, kind, read, stores, upload};

#[tokio::test]
async fn old_files_stay_readable_after_a_new_current_key() {
    let rotated = format!("{KEY_2},{KEY_1}");
    for t in stores(KEY_1) {
        let old = key("documents/before-rotation");
        let old_data = content(2 * CHUNK + 3, 1);
        upload(&t.store, &old, &old_data, CHUNK).await;

        let after = t.store.with_keyring(keyring(&rotated));
        assert!(read(&after, &old, None).await.unwrap() == old_data, "{}", t.name);
        assert!(
            read(&after, &old, Some((CHUNK as u64, CHUNK as u64 + 7))).await.unwrap() == old_data[CHUNK..CHUNK + 7]
        );
        let new = key("documents/after-rotation");
        let new_data = content(CHUNK + 1, 2);
        upload(&after, &new, &new_data, CHUNK).await;
        assert!(read(&after, &new, None).await.unwrap() == new_data);

        // New files use the new key: the old keyring cannot read them, and
        // once the old key is retired, old files are unreadable.
        assert_eq!(kind(&read(&t.store, &new, None).await), "WrongKey", "{}", t.name);
        let retired = t.store.with_keyring(keyring(KEY_2));
        assert!(read(&retired, &new, None).await.unwrap() == new_data);
        assert_eq!(kind(&read(&retired, &old, None).await), "WrongKey", "{}", t.name);
    }
}
