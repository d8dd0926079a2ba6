//! The byte range a download asks for (`Range: bytes=…`, RFC 9110 §14).

/// A byte range of a file, `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// How many bytes it holds.
    #[must_use]
    pub const fn len(self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether it holds no byte.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A range that selects no byte of the file, or that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the range selects no byte of the file")]
pub struct RangeNotSatisfiable;

/// A byte range as a request names it, before the file's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b`: from `a` to `b`, both included.
    Closed(u64, u64),
    /// `bytes=a-`: from `a` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Last(u64),
}

impl RangeRequest {
    /// Reads the value of a `Range` header. One range is kept; several, or
    /// another unit than bytes, ask for the whole file (`Ok(None)`), as RFC
    /// 9110 allows a server to answer.
    ///
    /// ```
    /// use ferry_domain::exchange::RangeRequest;
    /// assert_eq!(RangeRequest::parse("bytes=100-"), Ok(Some(RangeRequest::From(100))));
    /// assert_eq!(RangeRequest::parse("bytes=0-1,5-6"), Ok(None));
    /// ```
    ///
    /// # Errors
    /// [`RangeNotSatisfiable`] for a bytes range that is not one.
    pub fn parse(raw: &str) -> Result<Option<Self>, RangeNotSatisfiable> {
        let Some(spec) = raw.strip_prefix("bytes=") else { return Ok(None) };
        if spec.contains(',') {
            return Ok(None);
        }
        let (start, end) = spec.split_once('-').ok_or(RangeNotSatisfiable)?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| RangeNotSatisfiable);
        Ok(Some(match (start.trim().is_empty(), end.trim().is_empty()) {
            (true, false) => Self::Last(number(end)?),
            (false, true) => Self::From(number(start)?),
            (false, false) => Self::Closed(number(start)?, number(end)?),
            (true, true) => return Err(RangeNotSatisfiable),
        }))
    }

    /// The range of a file of `size` bytes.
    ///
    /// # Errors
    /// [`RangeNotSatisfiable`] when it selects no byte of the file.
    pub fn resolve(self, size: u64) -> Result<ByteRange, RangeNotSatisfiable> {
        let (start, end) = match self {
            Self::Closed(a, b) if a <= b && a < size => (a, b.saturating_add(1).min(size)),
            Self::From(a) if a < size => (a, size),
            Self::Last(n) if n > 0 && size > 0 => (size - n.min(size), size),
            _ => return Err(RangeNotSatisfiable),
        };
        Ok(ByteRange { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_or_are_ignored() {
        assert_eq!(RangeRequest::parse("bytes=0-99"), Ok(Some(RangeRequest::Closed(0, 99))));
        assert_eq!(RangeRequest::parse("bytes=100-"), Ok(Some(RangeRequest::From(100))));
        assert_eq!(RangeRequest::parse("bytes=-5"), Ok(Some(RangeRequest::Last(5))));
        assert_eq!(RangeRequest::parse("bytes=0-1,5-6"), Ok(None));
        assert_eq!(RangeRequest::parse("items=0-1"), Ok(None));
        assert!(RangeRequest::parse("bytes=x-1").is_err());
        assert!(RangeRequest::parse("bytes=-").is_err());
    }

    #[test]
    fn ranges_resolve_against_the_size_or_are_refused() {
        let r = |start, end| Ok(ByteRange { start, end });
        assert_eq!(RangeRequest::Closed(0, 0).resolve(10), r(0, 1));
        assert_eq!(RangeRequest::Closed(2, 100).resolve(10), r(2, 10));
        assert_eq!(RangeRequest::From(9).resolve(10), r(9, 10));
        assert_eq!(RangeRequest::Last(3).resolve(10), r(7, 10));
        assert_eq!(RangeRequest::Last(30).resolve(10), r(0, 10));
        assert!(RangeRequest::From(10).resolve(10).is_err());
        assert!(RangeRequest::Closed(5, 4).resolve(10).is_err());
        assert!(RangeRequest::Last(0).resolve(10).is_err());
        assert!(RangeRequest::Last(1).resolve(0).is_err());
        assert_eq!(RangeRequest::From(0).resolve(0), Err(RangeNotSatisfiable));
    }
}
