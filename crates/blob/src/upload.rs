//! An upload: plaintext in, encrypted parts out, visible on commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_ports::blob::{BlobError, BlobReceipt, BlobUpload};
use object_store::multipart::PartId;
use object_store::path::Path;
use object_store::{ObjectStoreExt as _, PutPayload};
use sha2::{Digest as _, Sha256};
use tokio::task::JoinSet;

use crate::backend::{Backend, Storage, unavailable};
use crate::format::{ChunkCipher, HEADER_LEN, TAG_LEN};
use crate::location::BlobOptions;

/// How often a long upload re-writes its marker, so that a sweep with a
/// grace period longer than this never takes it for abandoned.
const MARKER_REFRESH: Duration = Duration::from_secs(10 * 60);

/// S3's largest part.
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// How many chunks go into part `index` (0-based): the first parts hold
/// `part_size` bytes (rounded up to whole chunks); with `growing`, the size
/// doubles every `per_doubling` parts, up to S3's largest part.
pub(crate) fn chunks_in_part(options: &BlobOptions, growing: bool, index: usize) -> usize {
    let stored_chunk = u64::from(options.chunk_size) + TAG_LEN as u64;
    // INVARIANT: `EncryptedBlobStore::open` resolves the backend's default.
    let mut bytes = options.part_size.unwrap_or(8 * 1024 * 1024).max(1) as u64;
    if growing {
        for _ in 0..index / options.parts_per_doubling.max(1) {
            if bytes * 2 + HEADER_LEN as u64 > MAX_PART_SIZE {
                break;
            }
            bytes *= 2;
        }
    }
    usize::try_from(bytes.div_ceil(stored_chunk)).unwrap_or(usize::MAX).max(1)
}

type PartResult = Result<(usize, Option<PartId>), BlobError>;

/// A local folder's upload in progress: a temporary file `<name>#<digits>`
/// next to the target (the name object_store's local folder uses for its
/// own uploads, and skips in listings), written at known offsets by the part
/// tasks in any order, renamed into place by the commit.
struct Staged {
    file: Arc<std::fs::File>,
    temp: PathBuf,
    dest: PathBuf,
}

impl Staged {
    fn create(dest: PathBuf) -> Result<Self, BlobError> {
        let io = |e: std::io::Error| BlobError::Unavailable(format!("starting an upload: {e}"));
        if let Some(folder) = dest.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        loop {
            let mut suffix = [0u8; 4];
            crate::format::random(&mut suffix)?;
            let mut temp = dest.clone().into_os_string();
            temp.push(format!("#{}", u32::from_le_bytes(suffix)));
            let temp = PathBuf::from(temp);
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => return Ok(Self { file: Arc::new(file), temp, dest }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
    }

    /// Makes the file visible under its name, durably when `fsync`.
    fn publish(&self, fsync: bool) -> std::io::Result<()> {
        if fsync {
            self.file.sync_all()?;
        }
        std::fs::rename(&self.temp, &self.dest)?;
        if fsync && let Some(folder) = self.dest.parent() {
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(())
    }

    fn remove(&self) -> Result<(), BlobError> {
        match std::fs::remove_file(&self.temp) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::Unavailable(format!("abandoning an upload: {e}"))),
        }
    }
}

#[cfg(unix)]
fn write_at(file: &std::fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(windows)]
fn write_at(file: &std::fs::File, mut bytes: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, bytes, offset)?;
        bytes = &bytes[n..];
        offset += n as u64;
    }
    Ok(())
}

/// How far the upload has reached storage.
enum Sink {
    /// Nothing written yet: everything so far fits in the first part, and a
    /// commit now is one plain `put`.
    NotStarted,
    /// Parts go to a local temporary file.
    Local(Arc<Staged>),
    /// Parts go to a multipart upload with this id.
    Parts(String),
    /// Committed or aborted.
    Finished,
}

/// The chunks of one part, to be sealed by its task.
#[derive(Debug, Clone, Copy)]
struct PartChunks {
    /// Where the first chunk starts in the part (after the header in part 0).
    base: usize,
    first_index: u64,
    count: usize,
    /// Plaintext length of the part's last chunk (the others are full).
    last_len: usize,
    /// Whether the part's last chunk is the file's last.
    ends_file: bool,
}

/// Seals a part's chunks in place.
///
/// INVARIANT: chunk `j` of the part lies at `base + j × (chunk + tag)`, its
/// plaintext followed by a tag slot; `Upload` lays them out that way.
fn seal_part(cipher: &ChunkCipher, chunk_size: usize, chunks: PartChunks, buf: &mut [u8]) -> Result<(), BlobError> {
    for j in 0..chunks.count {
        let at = chunks.base + j * (chunk_size + TAG_LEN);
        let is_last = j + 1 == chunks.count;
        let len = if is_last { chunks.last_len } else { chunk_size };
        let index = u32::try_from(chunks.first_index + j as u64)
            .map_err(|_| BlobError::Unavailable("the file is larger than the format allows (256 TiB)".into()))?;
        let tag = cipher.seal(index, is_last && chunks.ends_file, &mut buf[at..at + len]);
        buf[at + len..at + len + TAG_LEN].copy_from_slice(&tag);
    }
    Ok(())
}

/// See [`BlobUpload`]. The caller's task hashes the plaintext and copies it
/// into the current part's buffer, leaving a tag slot after each chunk; a
/// full part goes to a task that seals it on the blocking pool and sends it,
/// while the next part fills. At most `parts_in_flight` tasks run at once.
pub(crate) struct Upload {
    storage: Arc<Storage>,
    options: BlobOptions,
    location: Path,
    cipher: Arc<ChunkCipher>,
    chunk_size: usize,
    hasher: Sha256,
    size: u64,
    /// The current part: the header (part 0 only), closed chunks (plaintext
    /// and a tag slot), then the plaintext of the open chunk from `open_at`.
    buf: Vec<u8>,
    base: usize,
    open_at: usize,
    closed_in_part: usize,
    /// Index of the open chunk.
    chunk_index: u64,
    /// Index of the current part's first chunk.
    first_in_part: u64,
    part_index: usize,
    /// Stored bytes handed to part tasks so far: the next part's offset.
    shipped: u64,
    sink: Sink,
    marker: Option<Path>,
    marker_written: Instant,
    in_flight: JoinSet<PartResult>,
    part_ids: Vec<Option<PartId>>,
    /// Set by the first failure; the upload can then only be aborted.
    failed: Option<String>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("location", &self.location)
            .field("size", &self.size)
            .field("part_index", &self.part_index)
            .finish_non_exhaustive()
    }
}

impl Upload {
    pub(crate) fn new(
        storage: Arc<Storage>,
        options: BlobOptions,
        location: Path,
        header: [u8; HEADER_LEN],
        cipher: ChunkCipher,
    ) -> Self {
        let chunk_size = options.chunk_size as usize;
        // Small files never fill a part: start small and let the buffer grow.
        let mut buf = Vec::with_capacity(HEADER_LEN + chunk_size + TAG_LEN);
        buf.extend_from_slice(&header);
        Self {
            storage,
            options,
            location,
            cipher: Arc::new(cipher),
            chunk_size,
            hasher: Sha256::new(),
            size: 0,
            base: HEADER_LEN,
            open_at: HEADER_LEN,
            buf,
            closed_in_part: 0,
            chunk_index: 0,
            first_in_part: 0,
            part_index: 0,
            shipped: 0,
            sink: Sink::NotStarted,
            marker: None,
            marker_written: Instant::now(),
            in_flight: JoinSet::new(),
            part_ids: Vec::new(),
            failed: None,
        }
    }

    fn growing(&self) -> bool {
        matches!(self.storage.backend, Backend::Parts(_))
    }

    fn fail(&mut self, error: BlobError) -> BlobError {
        if self.failed.is_none() {
            self.failed = Some(error.to_string());
        }
        error
    }

    fn check_usable(&self) -> Result<(), BlobError> {
        match (&self.failed, &self.sink) {
            (Some(reason), _) => Err(BlobError::Unavailable(format!("the upload failed earlier: {reason}"))),
            (None, Sink::Finished) => Err(BlobError::Unavailable("the upload is already finished".into())),
            (None, _) => Ok(()),
        }
    }

    /// Ends the open chunk: leaves room for its tag; the part task seals it.
    fn close_chunk(&mut self) -> Result<(), BlobError> {
        if self.chunk_index > u64::from(u32::MAX) {
            return Err(BlobError::Unavailable("the file is larger than the format allows (256 TiB)".into()));
        }
        self.buf.extend_from_slice(&[0; TAG_LEN]);
        self.chunk_index += 1;
        self.closed_in_part += 1;
        self.open_at = self.buf.len();
        Ok(())
    }

    /// The closed chunks of the current part; all full unless `ends_file`.
    fn part_chunks(&self, ends_file: bool) -> PartChunks {
        let last_len = if ends_file {
            self.buf.len() - TAG_LEN - (self.base + (self.closed_in_part - 1) * (self.chunk_size + TAG_LEN))
        } else {
            self.chunk_size
        };
        PartChunks { base: self.base, first_index: self.first_in_part, count: self.closed_in_part, last_len, ends_file }
    }

    /// Starts the multipart upload (and its marker) when the first part is full.
    async fn start(&mut self) -> Result<(), BlobError> {
        let marker = self.storage.new_marker_path()?;
        match &self.storage.backend {
            Backend::Local(fs) => {
                // The marker comes first: a crash right after the temporary
                // file appears must leave something for the sweep to find.
                self.storage.put_marker(&marker, &self.location, "").await?;
                self.marker = Some(marker);
                let dest = fs.path_to_filesystem(&self.location).map_err(|e| unavailable("starting an upload", &e))?;
                let staged = tokio::task::spawn_blocking(move || Staged::create(dest))
                    .await
                    .map_err(|e| BlobError::Unavailable(format!("starting an upload: {e}")))??;
                self.sink = Sink::Local(Arc::new(staged));
            }
            Backend::Parts(parts) => {
                // S3 names the upload only once it exists; a crash between
                // these two calls leaves an upload no marker names (S3's
                // AbortIncompleteMultipartUpload lifecycle rule catches those).
                let id =
                    parts.create_multipart(&self.location).await.map_err(|e| unavailable("starting an upload", &e))?;
                self.sink = Sink::Parts(id.clone());
                self.storage.put_marker(&marker, &self.location, &id).await?;
                self.marker = Some(marker);
            }
        }
        self.marker_written = Instant::now();
        Ok(())
    }

    /// Hands the current part to a task that seals and sends it, after
    /// waiting for room.
    async fn ship(&mut self, ends_file: bool) -> Result<(), BlobError> {
        if matches!(self.sink, Sink::NotStarted) {
            self.start().await?;
        }
        while self.in_flight.len() >= self.options.parts_in_flight.max(1) {
            self.join_one().await?;
        }
        if self.marker_written.elapsed() > MARKER_REFRESH
            && let Some(marker) = &self.marker
        {
            let upload_id = match &self.sink {
                Sink::Parts(id) => id.as_str(),
                _ => "",
            };
            self.storage.put_marker(marker, &self.location, upload_id).await?;
            self.marker_written = Instant::now();
        }

        let chunks = self.part_chunks(ends_file);
        let index = self.part_index;
        let offset = self.shipped;
        self.part_index += 1;
        let capacity = chunks_in_part(&self.options, self.growing(), self.part_index) * (self.chunk_size + TAG_LEN);
        let mut data = std::mem::replace(&mut self.buf, Vec::with_capacity(if ends_file { 0 } else { capacity }));
        self.shipped += data.len() as u64;
        self.base = 0;
        self.open_at = 0;
        self.closed_in_part = 0;
        self.first_in_part = self.chunk_index;

        let (cipher, chunk_size) = (Arc::clone(&self.cipher), self.chunk_size);
        match (&self.sink, &self.storage.backend) {
            (Sink::Local(staged), _) => {
                // Seal and write in one trip to the blocking pool.
                let staged = Arc::clone(staged);
                self.in_flight.spawn_blocking(move || {
                    seal_part(&cipher, chunk_size, chunks, &mut data)?;
                    write_at(&staged.file, &data, offset)
                        .map_err(|e| BlobError::Unavailable(format!("writing a part: {e}")))?;
                    Ok((index, None))
                });
            }
            (Sink::Parts(id), Backend::Parts(parts)) => {
                let (parts, location, id) = (Arc::clone(parts), self.location.clone(), id.clone());
                self.in_flight.spawn(async move {
                    let bytes = tokio::task::spawn_blocking(move || {
                        seal_part(&cipher, chunk_size, chunks, &mut data).map(|()| Bytes::from(data))
                    })
                    .await
                    .map_err(|e| BlobError::Unavailable(format!("encrypting a part: {e}")))??;
                    let part = parts
                        .put_part(&location, &id, index, PutPayload::from(bytes))
                        .await
                        .map_err(|e| unavailable("uploading a part", &e))?;
                    Ok((index, Some(part)))
                });
            }
            _ => unreachable!("start() made the sink match the backend"),
        }
        Ok(())
    }

    /// Waits for one part task to finish.
    async fn join_one(&mut self) -> Result<(), BlobError> {
        match self.in_flight.join_next().await {
            None => Ok(()),
            Some(Ok(Ok((index, part)))) => {
                if self.part_ids.len() <= index {
                    self.part_ids.resize(index + 1, None);
                }
                self.part_ids[index] = part;
                Ok(())
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(BlobError::Unavailable(format!("uploading a part: {e}"))),
        }
    }

    async fn write_inner(&mut self, mut bytes: &[u8]) -> Result<(), BlobError> {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.buf.len() - self.open_at == self.chunk_size {
                // More data follows, so the full chunk is not the last.
                self.close_chunk()?;
                if self.closed_in_part == chunks_in_part(&self.options, self.growing(), self.part_index) {
                    self.ship(false).await?;
                }
            }
            let take = (self.chunk_size - (self.buf.len() - self.open_at)).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        Ok(())
    }

    async fn commit_inner(&mut self) -> Result<BlobReceipt, BlobError> {
        self.close_chunk()?;
        if matches!(self.sink, Sink::NotStarted) {
            // Small enough for one atomic put. A local folder writes it
            // through a temporary file: mark it for the sweep first.
            let chunks = self.part_chunks(true);
            let (cipher, chunk_size) = (Arc::clone(&self.cipher), self.chunk_size);
            let mut data = std::mem::take(&mut self.buf);
            let sealed = tokio::task::spawn_blocking(move || {
                seal_part(&cipher, chunk_size, chunks, &mut data).map(|()| Bytes::from(data))
            })
            .await
            .map_err(|e| BlobError::Unavailable(format!("encrypting a file: {e}")))??;
            self.sink = Sink::Finished;
            if matches!(self.storage.backend, Backend::Local(_)) {
                let marker = self.storage.new_marker_path()?;
                self.storage.put_marker(&marker, &self.location, "").await?;
                self.marker = Some(marker);
            }
            let put = self.storage.objects.put(&self.location, PutPayload::from(sealed)).await;
            if let Some(marker) = self.marker.take() {
                self.storage.drop_marker(&marker).await;
            }
            put.map_err(|e| unavailable("storing a file", &e))?;
        } else {
            self.ship(true).await?;
            while !self.in_flight.is_empty() {
                self.join_one().await?;
            }
            match &self.sink {
                Sink::Local(staged) => {
                    let (staged, fsync) = (Arc::clone(staged), self.options.fsync);
                    tokio::task::spawn_blocking(move || staged.publish(fsync))
                        .await
                        .map_err(|e| BlobError::Unavailable(format!("finishing an upload: {e}")))?
                        .map_err(|e| BlobError::Unavailable(format!("finishing an upload: {e}")))?;
                }
                Sink::Parts(id) => {
                    let Backend::Parts(parts) = &self.storage.backend else {
                        unreachable!("start() made the sink match the backend")
                    };
                    let part_ids = std::mem::take(&mut self.part_ids)
                        .into_iter()
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| BlobError::Unavailable("an uploaded part went missing".into()))?;
                    parts
                        .complete_multipart(&self.location, id, part_ids)
                        .await
                        .map_err(|e| unavailable("finishing an upload", &e))?;
                }
                Sink::NotStarted | Sink::Finished => unreachable!("ship() started the upload"),
            }
            self.sink = Sink::Finished;
            if let Some(marker) = self.marker.take() {
                self.storage.drop_marker(&marker).await;
            }
        }
        let sha256: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
        Ok(BlobReceipt { size: self.size, sha256 })
    }

    /// Stops part tasks and removes what reached storage.
    async fn abort_inner(&mut self) -> Result<(), BlobError> {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        self.buf = Vec::new();
        let result = undo(&self.storage, &self.location, std::mem::replace(&mut self.sink, Sink::Finished)).await;
        // Keep the marker when cleaning up failed, so that a sweep retries.
        if result.is_ok()
            && let Some(marker) = self.marker.take()
        {
            self.storage.drop_marker(&marker).await;
        }
        result
    }
}

/// Removes what an unfinished upload wrote.
async fn undo(storage: &Storage, location: &Path, sink: Sink) -> Result<(), BlobError> {
    match sink {
        Sink::NotStarted | Sink::Finished => Ok(()),
        Sink::Local(staged) => tokio::task::spawn_blocking(move || staged.remove())
            .await
            .map_err(|e| BlobError::Unavailable(format!("abandoning an upload: {e}")))?,
        Sink::Parts(id) => storage.undo_upload(location, &id, None).await,
    }
}

#[async_trait]
impl BlobUpload for Upload {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.check_usable()?;
        let result = self.write_inner(bytes).await;
        result.map_err(|e| self.fail(e))
    }

    async fn commit(mut self: Box<Self>) -> Result<BlobReceipt, BlobError> {
        let result = match self.check_usable() {
            Ok(()) => self.commit_inner().await,
            Err(error) => Err(error),
        };
        match result {
            Ok(receipt) => Ok(receipt),
            Err(error) => {
                // Nothing became visible; clean up what did reach storage.
                if let Err(cleanup) = self.abort_inner().await {
                    tracing::warn!(error = %cleanup, "could not remove a failed upload; the sweep will");
                }
                Err(error)
            }
        }
    }

    async fn abort(mut self: Box<Self>) -> Result<(), BlobError> {
        self.abort_inner().await
    }
}

impl Drop for Upload {
    /// An upload dropped without commit or abort (a cancelled request) is
    /// cleaned up in the background; the part tasks stop with the `JoinSet`.
    fn drop(&mut self) {
        let sink = std::mem::replace(&mut self.sink, Sink::Finished);
        if matches!(sink, Sink::NotStarted | Sink::Finished) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let storage = Arc::clone(&self.storage);
        let location = self.location.clone();
        let marker = self.marker.take();
        runtime.spawn(async move {
            match (undo(&storage, &location, sink).await, marker) {
                (Ok(()), Some(marker)) => storage.drop_marker(&marker).await,
                (Ok(()), None) => {}
                (Err(error), _) => tracing::warn!(%error, "could not remove an abandoned upload; the sweep will"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_parts_leave_no_size_ceiling_within_s3_limits() {
        let options = BlobOptions::default().part_size(8 * 1024 * 1024);
        let stored_chunk = (options.chunk_size as usize + TAG_LEN) as u64;
        let part_bytes = |i| chunks_in_part(&options, true, i) as u64 * stored_chunk;
        assert!(part_bytes(0) >= 8 * 1024 * 1024);
        assert_eq!(part_bytes(999), part_bytes(0));
        assert!(part_bytes(1_000) >= 2 * 8 * 1024 * 1024);
        let total: u64 = (0..10_000).map(part_bytes).sum();
        // S3's largest object is 5 TiB; 10,000 parts must reach it.
        assert!(total >= 5 * (1 << 40), "10,000 parts hold only {total} bytes");
        assert!((0..10_000).all(|i| part_bytes(i) + HEADER_LEN as u64 <= MAX_PART_SIZE));
        // A local folder has no part limit: parts stay the same size.
        assert_eq!(chunks_in_part(&options, false, 9_999), chunks_in_part(&options, false, 0));
    }
}
