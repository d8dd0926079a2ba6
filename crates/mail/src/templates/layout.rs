//! The one layout every message shares, written twice at once: as plain text
//! and as HTML. Templates describe a message in spans and blocks; only this
//! module writes markup, and it escapes every piece of text it is given, so
//! no user-provided string (a name, a file name) can reach the HTML raw.

use std::fmt::Write as _;

use ferry_domain::values::PersonName;
use time::{OffsetDateTime, UtcOffset};

/// The brand colour used when a practice has not set one.
const DEFAULT_COLOUR: &str = "#24527a";
/// The dark text colour, also used on light brand colours.
const INK: &str = "#1f2328";
/// Secondary text.
const MUTED: &str = "#57606a";

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a header line: control characters (line breaks above all)
/// become spaces, runs of spaces collapse, and the result is cut at `max`
/// characters with an ellipsis. Used for user-provided text in subjects.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut flat = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if !(c == ' ' && (flat.is_empty() || flat.ends_with(' '))) {
            flat.push(c);
        }
    }
    let flat = flat.trim_end();
    if flat.chars().count() <= max {
        flat.to_owned()
    } else {
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A moment for people: `12 May 2026 at 14:05 UTC`.
pub(crate) fn when(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    format!("{} at {:02}:{:02} UTC", day(utc.date()), utc.hour(), utc.minute())
}

/// A day for people: `12 May 2026`.
pub(crate) fn day(date: time::Date) -> String {
    format!("{} {} {}", date.day(), date.month(), date.year())
}

/// `1 file`, `3 files`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A piece of a paragraph. User-provided text goes in [`Span::Strong`] or
/// [`Span::Text`] alike: both are escaped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Span<'a> {
    /// Plain text.
    Text(&'a str),
    /// Text set in bold in HTML (plain in the text version).
    Strong(&'a str),
}

/// Plain text.
pub(crate) fn t(text: &str) -> Span<'_> {
    Span::Text(text)
}

/// Bold text.
pub(crate) fn b(text: &str) -> Span<'_> {
    Span::Strong(text)
}

/// The colours of the header band and the button.
#[derive(Debug, Clone)]
pub(crate) struct Palette {
    /// The brand colour, `#rrggbb`.
    brand: String,
    /// Text on the brand colour: white, or dark ink on light colours.
    on_brand: &'static str,
}

impl Palette {
    /// The palette for a brand colour (`#rrggbb`, already validated), or the default.
    pub(crate) fn new(colour: Option<&str>) -> Self {
        let brand = colour.unwrap_or(DEFAULT_COLOUR).to_owned();
        let channel = |i: usize| u32::from_str_radix(brand.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
        // Perceived brightness (ITU-R BT.601 weights, in thousandths).
        let brightness = (299 * channel(1) + 587 * channel(3) + 114 * channel(5)) / 1000;
        let on_brand = if brightness > 160 { INK } else { "#ffffff" };
        Self { brand, on_brand }
    }
}

/// A message being written, as text and HTML side by side.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    text: String,
    html: String,
}

impl Doc {
    /// `Hello Ada,` or `Hello,`.
    pub(crate) fn greeting(&mut self, name: Option<&PersonName>) {
        match name {
            Some(name) => self.para(&[t("Hello "), t(name.as_str()), t(",")]),
            None => self.para(&[t("Hello,")]),
        }
    }

    /// A paragraph.
    pub(crate) fn para(&mut self, spans: &[Span<'_>]) {
        self.html.push_str("<p style=\"margin:0 0 16px\">");
        self.spans(spans);
        self.html.push_str("</p>\n");
        self.text.push_str("\n\n");
    }

    /// A paragraph in small, muted type.
    pub(crate) fn note(&mut self, spans: &[Span<'_>]) {
        let _ = write!(self.html, "<p style=\"margin:0 0 16px;font-size:13px;color:{MUTED}\">");
        self.spans(spans);
        self.html.push_str("</p>\n");
        self.text.push_str("\n\n");
    }

    fn spans(&mut self, spans: &[Span<'_>]) {
        for span in spans {
            match span {
                Span::Text(text) => {
                    self.text.push_str(text);
                    self.html.push_str(&escape(text));
                }
                Span::Strong(text) => {
                    self.text.push_str(text);
                    let _ = write!(self.html, "<strong>{}</strong>", escape(text));
                }
            }
        }
    }

    /// A bulleted list.
    pub(crate) fn list<S: AsRef<str>>(&mut self, items: &[S]) {
        self.html.push_str("<ul style=\"margin:0 0 16px;padding-left:20px\">\n");
        for item in items {
            let item = item.as_ref();
            let _ = writeln!(self.html, "<li style=\"margin:0 0 4px\">{}</li>", escape(item));
            let _ = writeln!(self.text, "  - {item}");
        }
        self.html.push_str("</ul>\n");
        self.text.push('\n');
    }

    /// The one thing to do: a button in HTML, the address on its own line in
    /// text, and the address again in HTML for mail readers that hide buttons.
    pub(crate) fn action(&mut self, label: &str, link: &str, palette: &Palette) {
        let (label_html, link_html) = (escape(label), escape(link));
        let _ = write!(
            self.html,
            "<p style=\"margin:24px 0\"><a href=\"{link_html}\" style=\"display:inline-block;background:{};color:{};\
             padding:10px 18px;border-radius:4px;text-decoration:none;font-weight:600\">{label_html}</a></p>\n\
             <p style=\"margin:0 0 16px;font-size:13px;color:{MUTED}\">If the button does not work, copy this \
             address into your browser:<br><a href=\"{link_html}\" style=\"color:{MUTED};word-break:break-all\">\
             {link_html}</a></p>\n",
            palette.brand, palette.on_brand,
        );
        let _ = write!(self.text, "{label}:\n{link}\n\n");
    }

    /// The finished bodies: `(text, html)`.
    pub(crate) fn finish(self, title: &str, sender: &str, footer: &str, palette: &Palette) -> (String, String) {
        let rule = "=".repeat(sender.chars().count().min(72));
        let text = format!("{sender}\n{rule}\n\n{}-- \n{footer}\n", self.text);
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n\
             <body style=\"margin:0;padding:0;background:#f4f5f7;color:{INK};\
             font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\" \
             style=\"padding:24px 12px\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
             style=\"max-width:560px;background:#ffffff;border-radius:6px\">\n\
             <tr><td style=\"background:{brand};color:{on_brand};padding:16px 24px;font-size:18px;font-weight:600;\
             border-radius:6px 6px 0 0\">{sender}</td></tr>\n\
             <tr><td style=\"padding:24px;font-size:15px;line-height:1.5\">\n{body}</td></tr>\n\
             <tr><td style=\"padding:0 24px 24px;font-size:12px;color:{MUTED}\">{footer}</td></tr>\n\
             </table>\n</td></tr></table>\n</body>\n</html>\n",
            title = escape(title),
            sender = escape(sender),
            footer = escape(footer),
            brand = palette.brand,
            on_brand = palette.on_brand,
            body = self.html,
        );
        (text, html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn clip_flattens_line_breaks_and_cuts_long_text() {
        assert_eq!(clip("a\r\nBcc: x@example.com", 60), "a Bcc: x@example.com");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcd", 4), "abcd");
    }

    #[test]
    fn text_on_the_brand_colour_stays_readable() {
        assert_eq!(Palette::new(Some("#ffffff")).on_brand, INK);
        assert_eq!(Palette::new(Some("#ffe066")).on_brand, INK);
        assert_eq!(Palette::new(Some("#1a73e8")).on_brand, "#ffffff");
        assert_eq!(Palette::new(None).brand, DEFAULT_COLOUR);
    }

    #[test]
    fn times_read_in_utc() {
        let at = OffsetDateTime::from_unix_timestamp(1_778_594_700).unwrap(); // 2026-05-12 14:05 UTC
        assert_eq!(when(at), "12 May 2026 at 14:05 UTC");
        assert_eq!(when(at.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap())), "12 May 2026 at 14:05 UTC");
    }
}
