//! Checksums sent with a resumable upload's bytes (the tus checksum
//! extension): only the digest of the algorithm a request names is computed.

/// A checksum sent with a request's bytes (tus checksum extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-1.
    Sha1(Vec<u8>),
    /// SHA-256.
    Sha256(Vec<u8>),
    /// MD5.
    Md5(Vec<u8>),
}

/// The names of the checksum algorithms [`Checksum`] knows, for `Tus-Checksum-Algorithm`.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256,md5";

/// The digest of a request's bytes in the algorithm of the checksum sent
/// with them (only that one is computed), and the checksum to match.
pub(super) struct RunningChecksum {
    digest: RunningDigest,
    expected: Vec<u8>,
}

enum RunningDigest {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Md5(md5::Md5),
}

impl RunningChecksum {
    pub(super) fn new(checksum: Checksum) -> Self {
        let (digest, expected) = match checksum {
            Checksum::Sha1(want) => (RunningDigest::Sha1(sha1::Sha1::default()), want),
            Checksum::Sha256(want) => (RunningDigest::Sha256(sha2::Sha256::default()), want),
            Checksum::Md5(want) => (RunningDigest::Md5(md5::Md5::default()), want),
        };
        Self { digest, expected }
    }

    pub(super) fn update(&mut self, bytes: &[u8]) {
        match &mut self.digest {
            RunningDigest::Sha1(d) => sha1::Digest::update(d, bytes),
            RunningDigest::Sha256(d) => sha2::Digest::update(d, bytes),
            RunningDigest::Md5(d) => md5::Digest::update(d, bytes),
        }
    }

    pub(super) fn matches(self) -> bool {
        let got = match self.digest {
            RunningDigest::Sha1(d) => sha1::Digest::finalize(d).to_vec(),
            RunningDigest::Sha256(d) => sha2::Digest::finalize(d).to_vec(),
            RunningDigest::Md5(d) => md5::Digest::finalize(d).to_vec(),
        };
        got == self.expected
    }
}
