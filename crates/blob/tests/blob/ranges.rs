//! Range reads across chunk edges decrypt exactly the bytes asked for.

use crate::harness::{CHUNK, KEY_1, content, key, kind, read, stores, upload};

#[tokio::test]
async fn ranges_across_chunk_edges_return_exactly_their_bytes() {
    let c = CHUNK as u64;
    for t in stores(KEY_1) {
        let len = 3 * c + 100;
        let data = content(usize::try_from(len).unwrap(), 7);
        let k = key("documents/ranges");
        upload(&t.store, &k, &data, 50_000).await;
        let ranges = [
            (0, 0),
            (0, 1),
            (0, c),
            (c - 1, c + 1),
            (c, c),
            (c, 2 * c),
            (c - 1, 2 * c + 1),
            (c + 10, c + 20),
            (5, len),
            (3 * c, len),
            (len - 1, len),
            (len, len),
            (0, len),
        ];
        for (start, end) in ranges {
            let got = read(&t.store, &k, Some((start, end))).await.unwrap();
            let want = &data[usize::try_from(start).unwrap()..usize::try_from(end).unwrap()];
            assert!(got == want, "{}: range {start}..{end} differs ({} bytes back)", t.name, got.len());
        }
        for (start, end) in [(0, len + 1), (len + 1, len + 2), (10, 9)] {
            let got = read(&t.store, &k, Some((start, end))).await;
            assert_eq!(kind(&got), "RangeNotSatisfiable", "{}: range {start}..{end}", t.name);
        }
    }
}

#[tokio::test]
async fn an_empty_file_has_only_the_empty_range() {
    for t in stores(KEY_1) {
        let k = key("documents/empty");
        upload(&t.store, &k, &[], 1).await;
        assert_eq!(read(&t.store, &k, Some((0, 0))).await.unwrap(), Vec::<u8>::new());
        assert_eq!(kind(&read(&t.store, &k, Some((0, 1))).await), "RangeNotSatisfiable", "{}", t.name);
    }
}
