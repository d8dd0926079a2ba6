//! File exchange (PRODUCT.md "File exchange"): whom files may be sent to and
//! who appears in which picker, and the pure parsers at the edge of a
//! transfer — the name a file is shown with, the type told from its bytes,
//! and the byte range a download asks for.

mod content_type;
mod names;
mod range;
mod recipients;

pub use content_type::{SNIFF_BYTES, sniff_content_type};
pub use names::{MAX_NAME_CHARS, display_name};
pub use range::{ByteRange, RangeNotSatisfiable, RangeRequest};
pub use recipients::{Picker, Recipient, RecipientRefused, check_recipient};
