//! A download: the chunks a range needs, fetched, authenticated, decrypted.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_ports::blob::{BlobError, BlobKey, BlobRead, ByteRange};
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use object_store::{GetOptions, GetResultPayload, ObjectStoreExt as _};
use tokio::task::JoinHandle;

use crate::backend::{Storage, unavailable};
use crate::format::{ChunkCipher, HEADER_LEN, Layout, TAG_LEN, open_header};
use crate::keys::Keyring;

/// About how many stored bytes one `next_chunk` call reads and decrypts.
const BATCH_BYTES: u64 = 256 * 1024;

/// How many batches of a local file are read and decrypted ahead, on the
/// blocking pool, while the caller sends the current one on: 768 KiB.
const READ_AHEAD: usize = 3;

/// Where the stored bytes come from.
enum Source {
    /// A local file, read at known offsets on the blocking pool (object_store's
    /// own stream reads 8 KiB at a time).
    File(Arc<std::fs::File>),
    /// Any other backend's response body; `leftover` is what the last read
    /// did not need of the body's last piece.
    Stream { body: BoxStream<'static, object_store::Result<Bytes>>, leftover: Bytes },
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Reads `len` stored bytes at `offset` of a local file on the blocking pool.
async fn read_file(file: &Arc<std::fs::File>, offset: u64, len: usize) -> Result<Vec<u8>, BlobError> {
    let file = Arc::clone(file);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0; len];
        read_at(&file, &mut buf, offset).map(|()| buf).map_err(read_error)
    })
    .await
    .map_err(|e| BlobError::Unavailable(format!("reading a file: {e}")))?
}

/// Reads exactly `len` bytes of a body. A body that ends early means the
/// stored file is shorter than its size said: [`BlobError::Corrupted`].
async fn read_body(
    body: &mut BoxStream<'static, object_store::Result<Bytes>>,
    leftover: &mut Bytes,
    len: usize,
) -> Result<Vec<u8>, BlobError> {
    let mut buf = Vec::with_capacity(len);
    loop {
        let want = len - buf.len();
        if leftover.len() >= want {
            buf.extend_from_slice(&leftover.split_to(want));
            return Ok(buf);
        }
        buf.extend_from_slice(leftover);
        *leftover = match body.next().await {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => return Err(unavailable("reading a file", &e)),
            None => return Err(BlobError::Corrupted),
        };
    }
}

fn read_error(error: std::io::Error) -> BlobError {
    if error.kind() == std::io::ErrorKind::UnexpectedEof {
        BlobError::Corrupted
    } else {
        BlobError::Unavailable(format!("reading a file: {error}"))
    }
}

/// See [`BlobRead`].
pub(crate) struct Download {
    source: Source,
    cipher: Arc<ChunkCipher>,
    layout: Layout,
    /// The chunks not yet scheduled.
    pending: Pending,
    /// Batches of a local file being read and decrypted, in order.
    ahead: VecDeque<JoinHandle<Result<Vec<u8>, BlobError>>>,
    /// Plaintext to drop from the front of the first chunk.
    skip: usize,
    /// Plaintext still to return.
    remaining: u64,
    /// Set by a failure: nothing more comes out.
    failed: bool,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download").field("layout", &self.layout).field("pending", &self.pending).finish_non_exhaustive()
    }
}

/// Opens `key`: reads and checks its header (one request for a whole file;
/// a range reads the header, then only the chunks it needs, on the condition
/// that the object is still the same one).
pub(crate) async fn open(
    storage: &Storage,
    keyring: &Keyring,
    key: &BlobKey,
    range: Option<ByteRange>,
) -> Result<Download, BlobError> {
    let location = storage.blob_path(key);
    let options = match range {
        None => GetOptions::default(),
        Some(_) => GetOptions::default().with_range(Some(0..HEADER_LEN as u64)),
    };
    let result = match storage.objects.get_opts(&location, options).await {
        Ok(result) => result,
        Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
        // A range past the end of an object too short to be ours.
        Err(error) => {
            return match storage.objects.head(&location).await {
                Ok(meta) if meta.size < HEADER_LEN as u64 => Err(BlobError::Corrupted),
                Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound),
                _ => Err(unavailable("reading a file", &error)),
            };
        }
    };
    let stored_len = result.meta.size;
    let (e_tag, version) = (result.meta.e_tag.clone(), result.meta.version.clone());
    if stored_len < (HEADER_LEN + TAG_LEN) as u64 {
        return Err(BlobError::Corrupted);
    }
    let (mut source, header) = match result.payload {
        GetResultPayload::File(file, _) => {
            let file = Arc::new(file);
            let header = read_file(&file, 0, HEADER_LEN).await?;
            (Source::File(file), header)
        }
        GetResultPayload::Stream(mut body) => {
            let mut leftover = Bytes::new();
            let header = read_body(&mut body, &mut leftover, HEADER_LEN).await?;
            (Source::Stream { body, leftover }, header)
        }
    };
    let (chunk_size, cipher) = open_header(&header, keyring, key.as_str())?;
    let layout = Layout::from_stored_len(stored_len, chunk_size).ok_or(BlobError::Corrupted)?;
    let chunk = layout.chunk_size;

    let (start, end) = match range {
        None => (0, layout.plain_len),
        Some(r) if r.start <= r.end && r.end <= layout.plain_len => (r.start, r.end),
        Some(_) => return Err(BlobError::RangeNotSatisfiable),
    };
    let (first, count) = match range {
        // A whole read checks every chunk, even the empty last one of an empty file.
        None => (0, layout.chunks),
        Some(_) if start == end => (0, 0),
        Some(_) => (start / chunk, (end - 1) / chunk - start / chunk + 1),
    };
    if range.is_some() && count > 0 {
        let from = layout.chunk_offset(first);
        let to = layout.chunk_end(first + count - 1);
        match &mut source {
            // Reads go to known offsets: nothing to do.
            Source::File(_) => {}
            Source::Stream { .. } => {
                let options =
                    GetOptions::default().with_range(Some(from..to)).with_if_match(e_tag).with_version(version);
                let body = match storage.objects.get_opts(&location, options).await {
                    Ok(result) => result.into_stream(),
                    Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
                    Err(object_store::Error::Precondition { .. }) => {
                        return Err(BlobError::Unavailable("the file was replaced while it was read".into()));
                    }
                    Err(e) => return Err(unavailable("reading a file", &e)),
                };
                source = Source::Stream { body, leftover: Bytes::new() };
            }
        }
    }
    Ok(Download {
        source,
        cipher: Arc::new(cipher),
        layout,
        pending: Pending { layout, next_index: first, chunks_left: count },
        skip: usize::try_from(start - first * chunk).expect("less than one chunk"),
        remaining: end - start,
        ahead: VecDeque::new(),
        failed: false,
    })
}

/// Authenticates and decrypts `count` consecutive chunks from `first`, held
/// in `buf` as stored, and returns their plaintext.
fn decrypt(
    cipher: &ChunkCipher,
    layout: &Layout,
    first: u64,
    count: u64,
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, BlobError> {
    let mut read = 0;
    let mut written = 0;
    for index in first..first + count {
        let stored =
            usize::try_from(layout.chunk_end(index) - layout.chunk_offset(index)).expect("a chunk fits memory");
        let plain = stored - TAG_LEN;
        let (chunk, tag) = buf[read..read + stored].split_at_mut(plain);
        let index32 = u32::try_from(index).map_err(|_| BlobError::Corrupted)?;
        cipher.open(index32, index == layout.last_index(), chunk, tag)?;
        buf.copy_within(read..read + plain, written);
        read += stored;
        written += plain;
    }
    buf.truncate(written);
    Ok(buf)
}

/// The chunks a download has not scheduled yet.
#[derive(Debug)]
struct Pending {
    layout: Layout,
    next_index: u64,
    chunks_left: u64,
}

impl Pending {
    /// The next batch's first chunk, count, stored offset and stored
    /// length, or `None` when every chunk is scheduled.
    fn take_batch(&mut self) -> Option<(u64, u64, u64, usize)> {
        if self.chunks_left == 0 {
            return None;
        }
        let count = (BATCH_BYTES / self.layout.stored_chunk()).clamp(1, self.chunks_left);
        let first = self.next_index;
        let offset = self.layout.chunk_offset(first);
        let len = usize::try_from(self.layout.chunk_end(first + count - 1) - offset).expect("a batch fits memory");
        self.next_index += count;
        self.chunks_left -= count;
        Some((first, count, offset, len))
    }
}

impl Download {
    /// The plaintext of the next batch, in order.
    async fn next_batch(&mut self) -> Result<Option<Vec<u8>>, BlobError> {
        let plain = match &mut self.source {
            Source::File(file) => {
                // Keep READ_AHEAD batches reading and decrypting while the
                // caller sends the current one on.
                while self.ahead.len() < READ_AHEAD {
                    let Some((first, count, offset, len)) = self.pending.take_batch() else { break };
                    let (file, cipher, layout) = (Arc::clone(file), Arc::clone(&self.cipher), self.layout);
                    self.ahead.push_back(tokio::task::spawn_blocking(move || {
                        let mut buf = vec![0; len];
                        read_at(&file, &mut buf, offset).map_err(read_error)?;
                        decrypt(&cipher, &layout, first, count, buf)
                    }));
                }
                let Some(batch) = self.ahead.pop_front() else { return Ok(None) };
                batch.await.map_err(|e| BlobError::Unavailable(format!("reading a file: {e}")))??
            }
            Source::Stream { body, leftover } => {
                let Some((first, count, _, len)) = self.pending.take_batch() else { return Ok(None) };
                let buf = read_body(body, leftover, len).await?;
                decrypt(&self.cipher, &self.layout, first, count, buf)?
            }
        };
        Ok(Some(self.trim(plain)))
    }

    /// Drops the plaintext before the range's start and after its end.
    fn trim(&mut self, mut plain: Vec<u8>) -> Vec<u8> {
        if self.skip > 0 {
            plain.drain(..self.skip.min(plain.len()));
            self.skip = 0;
        }
        if (plain.len() as u64) > self.remaining {
            plain.truncate(usize::try_from(self.remaining).expect("less than a batch"));
        }
        self.remaining -= plain.len() as u64;
        plain
    }
}

#[async_trait]
impl BlobRead for Download {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BlobError> {
        loop {
            if self.failed {
                return Err(BlobError::Unavailable("the download failed earlier".into()));
            }
            match self.next_batch().await.inspect_err(|_| self.failed = true)? {
                None => return Ok(None),
                // An empty file's only chunk, or a batch wholly before the range.
                Some(piece) if piece.is_empty() => {}
                Some(piece) => return Ok(Some(piece)),
            }
        }
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        for batch in &self.ahead {
            batch.abort();
        }
    }
}
