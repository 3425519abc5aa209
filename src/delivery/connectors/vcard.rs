//! The little of a vCard (RFC 6350, and the 2.1/3.0 forms phones still write) that the platforms'
//! contact messages need: the name, the phone numbers, the e-mail addresses.

/// A contact as read from a vCard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// `FN`, or `N`'s given and family names joined.
    pub formatted_name: String,
    pub first_name: String,
    pub last_name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

/// The first card of `text`; `None` when it is no vCard or has neither name nor number.
pub fn parse(text: &str) -> Option<Contact> {
    // Unfold: a line that starts with a space or tab continues the one before (RFC 6350 §3.2).
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(raw.to_string()),
        }
    }
    let mut contact = Contact::default();
    let mut inside = false;
    for line in &lines {
        let Some((head, value)) = line.split_once(':') else { continue };
        // `item1.TEL;TYPE=CELL` → `TEL`.
        let name = head.split(';').next().unwrap_or("");
        let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
        let value = unescape(value.trim());
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VCARD") => inside = true,
            "END" if value.eq_ignore_ascii_case("VCARD") && inside => break,
            _ if !inside => {}
            "FN" => contact.formatted_name = value,
            "N" => {
                let mut parts =
                    line.split_once(':').map_or("", |p| p.1).split(';').map(|p| unescape(p.trim()));
                contact.last_name = parts.next().unwrap_or_default();
                contact.first_name = parts.next().unwrap_or_default();
            }
            "TEL" if !value.is_empty() => {
                contact.phones.push(value.trim_start_matches("tel:").to_string());
            }
            "EMAIL" if !value.is_empty() => contact.emails.push(value),
            _ => {}
        }
    }
    if !inside {
        return None;
    }
    if contact.formatted_name.is_empty() {
        contact.formatted_name =
            [contact.first_name.as_str(), contact.last_name.as_str()].join(" ").trim().to_string();
    }
    if contact.first_name.is_empty() && contact.last_name.is_empty() {
        contact.first_name = contact.formatted_name.clone();
    }
    (!contact.formatted_name.is_empty() || !contact.phones.is_empty()).then_some(contact)
}

/// vCard text escapes: `\n`, `\,`, `\;`, `\\`.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_numbers_and_mails_of_the_forms_phones_write() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nelson;Sheena;;;\r\nFN:Sheena Nelson\r\n\
                    item1.TEL;TYPE=CELL:+1 650-555-1234\r\nTEL;type=WORK;VALUE=uri:tel:+34600111222\r\n\
                    EMAIL;TYPE=INTERNET:sheena@\r\n example.com\r\nEND:VCARD\r\n";
        let c = parse(card).unwrap();
        assert_eq!(c.formatted_name, "Sheena Nelson");
        assert_eq!((c.first_name.as_str(), c.last_name.as_str()), ("Sheena", "Nelson"));
        assert_eq!(c.phones, ["+1 650-555-1234", "+34600111222"]);
        assert_eq!(c.emails, ["sheena@example.com"]);
    }

    #[test]
    fn a_card_without_fn_or_n_and_what_is_no_card() {
        let c = parse("BEGIN:VCARD\nVERSION:2.1\nN:;Bo\\, Jr.\nTEL:600\nEND:VCARD").unwrap();
        assert_eq!((c.formatted_name.as_str(), c.first_name.as_str()), ("Bo, Jr.", "Bo, Jr."));
        assert_eq!(parse("hello"), None);
        assert_eq!(parse("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD"), None);
    }
}
