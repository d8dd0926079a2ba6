//! The name a file is shown with.

/// The longest name kept for a file, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// The name a file is shown with: the last segment of what the sender's
/// system called it, without control or direction-changing characters, at
/// most [`MAX_NAME_CHARS`] characters (the extension kept). Never used as a
/// storage path.
///
/// ```
/// use ferry_domain::exchange::display_name;
/// assert_eq!(display_name("C:\\Users\\ada\\Q3 VAT.xlsx"), "Q3 VAT.xlsx");
/// assert_eq!(display_name("../../etc/passwd"), "passwd");
/// ```
#[must_use]
pub fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let trimmed = cleaned.trim();
    let name = if trimmed.is_empty() || trimmed == "." || trimmed == ".." { "unnamed file" } else { trimmed };
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let extension = name.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| ext.chars().count() <= 16);
    match extension {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name.chars().take(MAX_NAME_CHARS).collect::<String>().trim_end().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_length_but_keep_unicode() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\ada\\Q3 VAT.xlsx"), "Q3 VAT.xlsx");
        assert_eq!(display_name("Bilanz 2025 — Müller & Söhne.pdf"), "Bilanz 2025 — Müller & Söhne.pdf");
        assert_eq!(display_name("報告書.pdf"), "報告書.pdf");
        assert_eq!(display_name("evil\u{202e}fdp.exe"), "evilfdp.exe");
        assert_eq!(display_name("a\r\nb\u{0}.txt"), "ab.txt");
        assert_eq!(display_name(""), "unnamed file");
        assert_eq!(display_name(".."), "unnamed file");
        assert_eq!(display_name("dir/"), "unnamed file");
        let long = format!("{}.pdf", "é".repeat(400));
        let kept = display_name(&long);
        assert_eq!(kept.chars().count(), MAX_NAME_CHARS);
        assert!(kept.ends_with(".pdf"));
        assert_eq!(display_name(&"x".repeat(300)).chars().count(), MAX_NAME_CHARS);
    }
}
