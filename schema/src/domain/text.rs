//! What people type: names, labels, tags and time zones, checked before anything is stored.

use chrono_tz::Tz;

/// Why a typed value was refused; the message is safe to show (it never echoes the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidText(pub String);

/// A short single-line text: trimmed, not empty, at most `max_chars` characters, no control
/// characters (they break lock screens, logs and CSV exports).
pub fn single_line(value: &str, max_chars: usize) -> Result<String, InvalidText> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidText("must not be empty".into()));
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidText(format!(
            "must be at most {max_chars} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidText("must not contain control characters".into()));
    }
    Ok(trimmed.to_owned())
}

/// A note of several lines (a reflection, a supervision note): trimmed, at most `max_chars`
/// characters; line breaks and tabs are kept, other control characters refused. May be empty when
/// `required` is false.
pub fn note(value: &str, max_chars: usize, required: bool) -> Result<String, InvalidText> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(InvalidText("must not be empty".into()));
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidText(format!(
            "must be at most {max_chars} characters"
        )));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(InvalidText("must not contain control characters".into()));
    }
    Ok(trimmed.to_owned())
}

/// Most tags in one of a profile's lists (experience, languages, areas, preferences).
pub const TAGS_MAX: usize = 30;
/// Longest tag.
pub const TAG_CHARS_MAX: usize = 60;

/// A list from a request holds at most `max` items. Checked on the length alone, before any item
/// is read: every list argument's limit goes through here.
pub fn list_len(len: usize, max: usize) -> Result<(), InvalidText> {
    if len > max {
        return Err(InvalidText(format!("must have at most {max} items")));
    }
    Ok(())
}

/// A list of short tags (experience, languages, areas, preferences): each a single line, no
/// duplicates (kept in the order given), and not too many.
pub fn tag_list(
    values: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<Vec<String>, InvalidText> {
    list_len(values.len(), max_items)?;
    let mut tags: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let tag = single_line(value, max_chars)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// An IANA time zone name such as `Asia/Tokyo`.
pub fn time_zone(value: &str) -> Result<Tz, InvalidText> {
    value
        .trim()
        .parse::<Tz>()
        .map_err(|_| InvalidText("must be an IANA time zone name such as Asia/Tokyo".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lengths_are_checked_on_the_length_alone() {
        assert_eq!(list_len(0, 0), Ok(()));
        assert_eq!(list_len(5, 5), Ok(()));
        assert_eq!(
            list_len(6, 5),
            Err(InvalidText("must have at most 5 items".into()))
        );
        assert!(list_len(usize::MAX, 50).is_err());
        // Length first: an over-long list of bad tags is refused for its length.
        let tags = vec!["\u{7}".to_owned(); TAGS_MAX + 1];
        assert_eq!(
            tag_list(&tags, TAGS_MAX, TAG_CHARS_MAX),
            Err(InvalidText(format!("must have at most {TAGS_MAX} items")))
        );
    }

    #[test]
    fn notes_keep_line_breaks_and_refuse_other_controls() {
        assert_eq!(note("  a\nb  ", 10, true), Ok("a\nb".to_owned()));
        assert!(note("   ", 10, true).is_err());
        assert_eq!(note("", 10, false), Ok(String::new()));
        assert!(note("a\u{7}b", 10, true).is_err());
        assert!(note("あいうえおかきくけこさ", 10, true).is_err());
    }

    #[test]
    fn single_lines_are_trimmed_and_bounded() {
        assert_eq!(single_line("  西田 健 ", 10).unwrap(), "西田 健");
        assert!(single_line("   ", 10).is_err());
        assert!(single_line("あいうえおかきくけこさ", 10).is_err());
        assert!(single_line("あいうえおかきくけこ", 10).is_ok());
        assert!(single_line("a\u{0007}b", 10).is_err());
        assert!(single_line("a\nb", 10).is_err());
    }

    #[test]
    fn tag_lists_drop_duplicates_and_refuse_too_many() {
        let tags = vec!["bus".to_owned(), " bus ".to_owned(), "clinic".to_owned()];
        assert_eq!(tag_list(&tags, 5, 20).unwrap(), vec!["bus", "clinic"]);
        assert!(tag_list(&tags, 2, 20).is_err());
        assert!(tag_list(&[String::new()], 2, 20).is_err());
    }

    #[test]
    fn time_zones_must_exist() {
        assert_eq!(time_zone("Asia/Tokyo").unwrap(), chrono_tz::Asia::Tokyo);
        assert!(time_zone("Asia/Osaka").is_err());
        assert!(time_zone("").is_err());
    }
}
