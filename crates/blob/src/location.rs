//! Where the blobs live, from a URL, and the tuning options.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use url::Url;

/// Where blobs are stored, parsed from a URL (`FERRY_BLOB_URL`).
///
/// - `file:///srv/ferry/blobs`: a local folder (created if missing).
/// - `s3://bucket/optional/prefix`: an S3-compatible bucket. Credentials
///   and region come from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
///   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
///   `AWS_ENDPOINT`, ...). Query parameters override them: `endpoint=` for
///   an S3-compatible server (MinIO, Garage, Ceph, moto), `region=`, and
///   `allow_http=true` to accept plain HTTP to a host that is not loopback
///   (plain HTTP to `127.0.0.1`, `::1` or `localhost` is always accepted).
/// - `memory://`: in process memory, for tests.
///
/// Credentials in the URL itself are refused, so that a URL can be logged.
///
/// ```
/// use ferry_blob::BlobLocation;
/// let s3 = BlobLocation::parse("s3://ferry/prod?endpoint=http://127.0.0.1:9000")?;
/// assert_eq!(s3.to_string(), "s3://ferry/prod");
/// assert!(BlobLocation::parse("file://relative/path").is_err());
/// # Ok::<(), ferry_blob::LocationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation(pub(crate) Kind);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Folder(PathBuf),
    S3(S3Location),
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Location {
    pub(crate) bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub(crate) prefix: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) allow_http: bool,
}

/// Why a blob storage URL was refused. Messages never repeat the URL, which
/// may hold something secret by mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// Not a URL at all.
    #[error("the blob storage location is not a URL: use file:///path, s3://bucket/prefix or memory://")]
    NotAUrl,
    /// A scheme other than `file`, `s3` or `memory`.
    #[error("blob storage URLs starting with `{scheme}://` are not supported: use file://, s3:// or memory://")]
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// A `file://` URL with a host or a relative path.
    #[error("a file:// blob storage URL needs an absolute path, such as file:///srv/ferry/blobs")]
    NotAnAbsolutePath,
    /// An `s3://` URL without a bucket.
    #[error("an s3:// blob storage URL needs a bucket, such as s3://bucket/prefix")]
    MissingBucket,
    /// A user name or password in the URL.
    #[error("credentials do not belong in the blob storage URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    CredentialsInUrl,
    /// A prefix with an empty, `.` or `..` segment.
    #[error("the S3 prefix must be `/`-separated names without empty, `.` or `..` parts")]
    InvalidPrefix,
    /// A query parameter we do not know.
    #[error("unknown blob storage URL parameter `{name}`: use endpoint, region or allow_http")]
    UnknownParameter {
        /// The parameter's name.
        name: String,
    },
    /// `endpoint=` is not an `http(s)://host[:port]` URL.
    #[error("the S3 endpoint must be an http:// or https:// URL")]
    InvalidEndpoint,
    /// `allow_http=` is neither `true` nor `false`.
    #[error("allow_http must be true or false")]
    InvalidAllowHttp,
    /// Plain HTTP to a host that is not loopback, without `allow_http=true`.
    #[error("the S3 endpoint uses plain http to a host that is not loopback: use https, or add allow_http=true")]
    InsecureEndpoint,
    /// Parameters on a URL that takes none.
    #[error("file:// and memory:// blob storage URLs take no parameters")]
    UnexpectedParameters,
}

impl BlobLocation {
    /// Parses a blob storage URL (see the type's documentation).
    ///
    /// # Errors
    /// A [`LocationError`] saying what is wrong.
    pub fn parse(url: &str) -> Result<Self, LocationError> {
        let parsed = Url::parse(url.trim()).map_err(|_| LocationError::NotAUrl)?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(LocationError::CredentialsInUrl);
        }
        match parsed.scheme() {
            "file" => {
                if parsed.query().is_some() {
                    return Err(LocationError::UnexpectedParameters);
                }
                let has_host = parsed.host_str().is_some_and(|h| !h.is_empty() && h != "localhost");
                if has_host {
                    return Err(LocationError::NotAnAbsolutePath);
                }
                let path = parsed.to_file_path().map_err(|()| LocationError::NotAnAbsolutePath)?;
                Ok(Self::folder(path))
            }
            "memory" => {
                if parsed.query().is_some() {
                    return Err(LocationError::UnexpectedParameters);
                }
                Ok(Self::memory())
            }
            "s3" => parse_s3(&parsed).map(|s3| Self(Kind::S3(s3))),
            other => Err(LocationError::UnsupportedScheme { scheme: other.to_owned() }),
        }
    }

    /// A local folder, absolute or relative to the working directory.
    pub fn folder(path: impl AsRef<Path>) -> Self {
        Self(Kind::Folder(path.as_ref().to_path_buf()))
    }

    /// Whether the files are kept in an S3-compatible bucket (not on this machine).
    #[must_use]
    pub const fn is_s3(&self) -> bool {
        matches!(self.0, Kind::S3(_))
    }

    /// A new, empty store in process memory, for tests.
    #[must_use]
    pub fn memory() -> Self {
        Self(Kind::Memory)
    }
}

impl std::fmt::Display for BlobLocation {
    /// The URL without its query (endpoint and region are not secret, but
    /// need not clutter logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Folder(path) => write!(f, "file://{}", path.display()),
            Kind::S3(s3) if s3.prefix.is_empty() => write!(f, "s3://{}", s3.bucket),
            Kind::S3(s3) => write!(f, "s3://{}/{}", s3.bucket, s3.prefix),
            Kind::Memory => f.write_str("memory://"),
        }
    }
}

fn parse_s3(url: &Url) -> Result<S3Location, LocationError> {
    let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or(LocationError::MissingBucket)?.to_owned();
    let prefix = url.path().trim_matches('/').to_owned();
    if !prefix.is_empty() && !prefix.split('/').all(|s| !s.is_empty() && s != "." && s != "..") {
        return Err(LocationError::InvalidPrefix);
    }
    let mut location = S3Location { bucket, prefix, endpoint: None, region: None, allow_http: false };
    let mut insecure_ok = false;
    for (name, value) in url.query_pairs() {
        match &*name {
            "endpoint" => location.endpoint = Some(value.into_owned()),
            "region" => location.region = Some(value.into_owned()),
            "allow_http" => {
                insecure_ok = match &*value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(LocationError::InvalidAllowHttp),
                }
            }
            other => return Err(LocationError::UnknownParameter { name: other.to_owned() }),
        }
    }
    if let Some(endpoint) = &location.endpoint {
        let endpoint = Url::parse(endpoint).map_err(|_| LocationError::InvalidEndpoint)?;
        let host = endpoint.host_str().filter(|h| !h.is_empty()).ok_or(LocationError::InvalidEndpoint)?;
        match endpoint.scheme() {
            "https" => {}
            "http" if insecure_ok || is_loopback(host) => location.allow_http = true,
            "http" => return Err(LocationError::InsecureEndpoint),
            _ => return Err(LocationError::InvalidEndpoint),
        }
    }
    Ok(location)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Tuning of a store. The defaults suit production; tests shrink the sizes
/// to cross chunk and part boundaries with little data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobOptions {
    pub(crate) chunk_size: u32,
    /// `None`: the backend's default, set by `EncryptedBlobStore::open`.
    pub(crate) part_size: Option<usize>,
    pub(crate) parts_per_doubling: usize,
    pub(crate) parts_in_flight: usize,
    pub(crate) fsync: bool,
}

impl Default for BlobOptions {
    fn default() -> Self {
        Self { chunk_size: 64 * 1024, part_size: None, parts_per_doubling: 1_000, parts_in_flight: 2, fsync: true }
    }
}

impl BlobOptions {
    /// Plaintext bytes per encrypted chunk (default 64 KiB, at most 16 MiB).
    /// Stored in each file's header, so changing it never affects old files.
    #[must_use]
    pub fn chunk_size(mut self, bytes: u32) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// Size of the first parts of a multipart upload. Defaults to 8 MiB on
    /// S3 (which needs at least 5 MiB) and in memory, where the part size
    /// doubles every [`parts_per_doubling`](Self::parts_per_doubling) parts
    /// so that S3's limit of 10,000 parts never caps a file's size; and to
    /// 1 MiB in a local folder, which has no part limit and keeps it fixed.
    #[must_use]
    pub fn part_size(mut self, bytes: usize) -> Self {
        self.part_size = Some(bytes);
        self
    }

    /// After how many parts the part size doubles (default 1,000: 8 MiB
    /// parts up to 8 GB, 16 MiB parts up to 24 GB, ...).
    #[must_use]
    pub fn parts_per_doubling(mut self, parts: usize) -> Self {
        self.parts_per_doubling = parts;
        self
    }

    /// How many parts upload at once while the next one fills (default 2).
    /// Peak memory per upload is about (this + 1) × the part size: 24 MiB on
    /// S3, 3 MiB in a local folder.
    #[must_use]
    pub fn parts_in_flight(mut self, parts: usize) -> Self {
        self.parts_in_flight = parts;
        self
    }

    /// Whether a local folder flushes each file and its folder to disk before
    /// a commit returns (default true: a committed blob survives a power
    /// cut). Ignored by S3, whose commit is durable, and by memory.
    #[must_use]
    pub fn fsync(mut self, fsync: bool) -> Self {
        self.fsync = fsync;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expect: Result<Kind, LocationError>) {
        assert_eq!(BlobLocation::parse(url).map(|l| l.0), expect, "{url}");
    }

    fn s3(bucket: &str, prefix: &str, endpoint: Option<&str>, allow_http: bool) -> Kind {
        Kind::S3(S3Location {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: endpoint.map(Into::into),
            region: None,
            allow_http,
        })
    }

    #[test]
    fn parses_blob_urls() {
        check("file:///srv/ferry/blobs", Ok(Kind::Folder("/srv/ferry/blobs".into())));
        check("file:///srv/with%20space", Ok(Kind::Folder("/srv/with space".into())));
        check("memory://", Ok(Kind::Memory));
        check("s3://bucket", Ok(s3("bucket", "", None, false)));
        check("s3://bucket/a/b/", Ok(s3("bucket", "a/b", None, false)));
        check(
            "s3://bucket/p?endpoint=http://127.0.0.1:9000",
            Ok(s3("bucket", "p", Some("http://127.0.0.1:9000"), true)),
        );
        check("s3://bucket?endpoint=http://[::1]:9000", Ok(s3("bucket", "", Some("http://[::1]:9000"), true)));
        check("s3://bucket?endpoint=https://minio.example", Ok(s3("bucket", "", Some("https://minio.example"), false)));
        check(
            "s3://bucket?endpoint=http://minio.lan:9000&allow_http=true",
            Ok(s3("bucket", "", Some("http://minio.lan:9000"), true)),
        );
    }

    #[test]
    fn refuses_bad_blob_urls() {
        check("not a url", Err(LocationError::NotAUrl));
        check("gs://bucket", Err(LocationError::UnsupportedScheme { scheme: "gs".into() }));
        check("file://relative/path", Err(LocationError::NotAnAbsolutePath));
        check("file:///x?fsync=false", Err(LocationError::UnexpectedParameters));
        check("s3://key:secret@bucket", Err(LocationError::CredentialsInUrl));
        check("s3://bucket/a//b", Err(LocationError::InvalidPrefix));
        check("s3://bucket?endpint=x", Err(LocationError::UnknownParameter { name: "endpint".into() }));
        check("s3://bucket?endpoint=ftp://x", Err(LocationError::InvalidEndpoint));
        check("s3://bucket?endpoint=http://minio.lan", Err(LocationError::InsecureEndpoint));
        check("s3://bucket?endpoint=http://x&allow_http=yes", Err(LocationError::InvalidAllowHttp));
        let message = BlobLocation::parse("s3://AKIAXXXX:hunter2@bucket").unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }
}
