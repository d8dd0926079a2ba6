//! The type of a file, told from its first bytes.

/// How many leading bytes [`sniff_content_type`] looks at.
pub const SNIFF_BYTES: usize = 512;

/// The type of a file, told from its first bytes (and, for formats that are
/// zip or plain text inside, its name). Anything a browser could run (HTML,
/// SVG, scripts) is `application/octet-stream`.
///
/// ```
/// use ferry_domain::exchange::sniff_content_type;
/// assert_eq!(sniff_content_type(b"%PDF-1.7\n", "report.html"), "application/pdf");
/// assert_eq!(sniff_content_type(b"<script>", "page.html"), "application/octet-stream");
/// ```
#[must_use]
pub fn sniff_content_type(head: &[u8], name: &str) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
        (b"\x1f\x8b", "application/gzip"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07", "application/vnd.rar"),
    ];
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return match extension.as_str() {
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "ods" => "application/vnd.oasis.opendocument.spreadsheet",
            "odt" => "application/vnd.oasis.opendocument.text",
            _ => "application/zip",
        };
    }
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return match (*kind, extension.as_str()) {
            ("application/x-ole-storage", "xls") => "application/vnd.ms-excel",
            ("application/x-ole-storage", "doc") => "application/msword",
            (kind, _) => kind,
        };
    }
    let text = !head.is_empty() && !head.contains(&0) && looks_like_utf8(head);
    match (text, extension.as_str()) {
        (true, "csv") => "text/csv",
        (true, "tsv") => "text/tab-separated-values",
        (true, "txt" | "qif" | "iif" | "ofx" | "qfx") => "text/plain",
        (true, "json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Whether `head` is UTF-8, allowing a character cut at its end.
fn looks_like_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_bytes_and_never_say_html() {
        assert_eq!(sniff_content_type(b"%PDF-1.7\n", "x.bin"), "application/pdf");
        assert_eq!(sniff_content_type(b"%PDF-1.7\n", "x.html"), "application/pdf");
        assert_eq!(
            sniff_content_type(b"PK\x03\x04....", "ledger.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(sniff_content_type(b"PK\x03\x04....", "ledger.pdf"), "application/zip");
        assert_eq!(sniff_content_type(b"date,amount\n2025-01-01,3.50\n", "bank.csv"), "text/csv");
        assert_eq!(sniff_content_type(b"<html><script>alert(1)</script>", "page.html"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"<svg onload=alert(1)>", "x.svg"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"<html>", "trick.csv"), "text/csv");
        assert_eq!(sniff_content_type(b"\x00\x01binary", "data.csv"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"", "empty.txt"), "application/octet-stream");
        // A multi-byte character cut at the end of the sniffed bytes is still text.
        assert_eq!(sniff_content_type("Müller".as_bytes().get(..2).unwrap(), "n.txt"), "text/plain");
    }
}
