//! A result written as XML straight from its serde form, in one pass into the response text: a struct
//! is an element whose fields are its children in order, a sequence an element of `<item>` children,
//! a string, number or boolean an element with that text, `None` nothing at all. The SOAP door used to
//! build a `serde_json::Value` tree first and walk it: two thirds of its rendering time (callgrind).
//! Maps and non-unit enum variants do not occur in replies and are refused.

use std::fmt::{self, Display, Write as _};

use quick_xml::escape::escape;
use serde::ser::{self, Impossible, Serialize};

/// Why a value could not be written (a reply type this writer does not know).
#[derive(Debug)]
pub struct Unsupported(String);

impl Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Unsupported> {
    Err(Unsupported(format!("{what} cannot be written as SOAP XML")))
}

/// Writes `value` as the element `name` at the end of `out`.
pub fn write_element<T: Serialize + ?Sized>(
    out: &mut String,
    name: &str,
    value: &T,
) -> Result<(), Unsupported> {
    value.serialize(Element { out, name })
}

/// One element about to be written: its name, and where.
struct Element<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl Element<'_> {
    fn open(&mut self) {
        self.out.push('<');
        self.out.push_str(self.name);
        self.out.push('>');
    }

    fn close(&mut self) {
        self.out.push_str("</");
        self.out.push_str(self.name);
        self.out.push('>');
    }

    fn text(mut self, text: &str) -> Result<(), Unsupported> {
        self.open();
        self.out.push_str(&escape(text));
        self.close();
        Ok(())
    }

    /// Numbers (digits, sign, point, exponent) need no escaping.
    fn display(mut self, value: impl Display) -> Result<(), Unsupported> {
        self.open();
        let _ = write!(self.out, "{value}");
        self.close();
        Ok(())
    }
}

impl<'a> ser::Serializer for Element<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Impossible<(), Unsupported>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.text(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        self.display(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.text(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Unsupported> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        unsupported("an enum variant with data")
    }
    fn serialize_seq(mut self, _: Option<usize>) -> Result<Items<'a>, Unsupported> {
        self.open();
        Ok(Items(self))
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        unsupported("an enum variant with data")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        unsupported("a map")
    }
    fn serialize_struct(mut self, _: &'static str, _: usize) -> Result<Fields<'a>, Unsupported> {
        self.open();
        Ok(Fields(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        unsupported("an enum variant with data")
    }
}

/// The children of a sequence's element, each an `<item>`.
struct Items<'a>(Element<'a>);

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(Element { out: self.0.out, name: "item" })
    }
}

/// Sequences, tuples and tuple structs are all written as `<item>`s (serde's three traits for them
/// differ only in a method's name).
macro_rules! items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Items<'_> {
            type Ok = ();
            type Error = Unsupported;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.item(value)
            }
            fn end(mut self) -> Result<(), Unsupported> {
                self.0.close();
                Ok(())
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// The children of a struct's element, one per field, in order.
struct Fields<'a>(Element<'a>);

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(Element { out: self.0.out, name: key })
    }
    fn end(mut self) -> Result<(), Unsupported> {
        self.0.close();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::domain::model::{Author, Channel, Location, Message, MessageDetails, MessageStatus, Platform};
    use crate::domain::{DomainError, ErrorCode, Reply};
    use crate::doors::views::ReplyView;

    /// What the door wrote before: the serde form as a `serde_json::Value`, walked element by element.
    fn through_value(out: &mut String, name: &str, value: &serde_json::Value) {
        use serde_json::Value;
        let tag = |out: &mut String, inner: &dyn Fn(&mut String)| {
            out.push_str(&format!("<{name}>"));
            inner(out);
            out.push_str(&format!("</{name}>"));
        };
        match value {
            Value::Null => {}
            Value::Object(fields) => tag(out, &|o| fields.iter().for_each(|(k, v)| through_value(o, k, v))),
            Value::Array(items) => tag(out, &|o| items.iter().for_each(|v| through_value(o, "item", v))),
            Value::String(s) => tag(out, &|o| o.push_str(&escape(s))),
            Value::Number(n) => tag(out, &|o| o.push_str(&n.to_string())),
            Value::Bool(b) => tag(out, &|o| o.push_str(&b.to_string())),
        }
    }

    fn both(reply: &Reply) -> (String, String) {
        let mut direct = String::new();
        write_element(&mut direct, "result", &ReplyView(reply)).unwrap();
        let mut old = String::new();
        through_value(&mut old, "result", &serde_json::to_value(ReplyView(reply)).unwrap());
        (direct, old)
    }

    #[test]
    fn writes_what_the_value_walk_wrote() {
        let replies = [
            Reply::Empty,
            Reply::MessageId(7),
            Reply::Channels(Arc::new(vec![Channel {
                id: 1,
                account_id: 1,
                platform: Platform::Webchat,
                name: "<Tom & \"Jerry\">".into(),
            }])),
            Reply::Channels(Arc::default()),
            Reply::Status(Box::new(Message {
                id: 9,
                channel_id: 1,
                platform: Platform::Telegram,
                destination: "42".into(),
                text: Some("hi".into()),
                attachment: None,
                sent: true,
                status: MessageStatus::Failed,
                reason: Some("chat not found".into()),
                created_at: 1_795_000_000_000,
                details: MessageDetails::default(),
            })),
            // A received message with every detail: nested elements (author, location) in order.
            Reply::Messages(vec![Message {
                id: 10,
                channel_id: 1,
                platform: Platform::Whatsapp,
                destination: "34600111222".into(),
                text: Some("Location: <Prado>".into()),
                attachment: None,
                sent: false,
                status: MessageStatus::Unread,
                reason: None,
                created_at: 1_795_000_000_000,
                details: MessageDetails {
                    author: Some(Author { name: "Ann & Bo".into(), id: "34600111222".into() }),
                    reply: Some("yes".into()),
                    location: Location::new(40.5, -3.25, Some("<Prado>".into()), None),
                    file_name: Some("a.pdf".into()),
                    edited_at: Some(1_795_000_000_000),
                    template: None,
                },
            }]),
            Reply::Bulk(vec![
                Ok(3),
                Err(DomainError::param(ErrorCode::IncorrectParam, "destination")),
                Err(DomainError::new(ErrorCode::ChannelNotFound)),
            ]),
        ];
        for reply in &replies {
            let (direct, old) = both(reply);
            assert_eq!(direct, old);
        }
        assert_eq!(both(&replies[0]).0, "<result></result>");
        let received = replies.iter().find(|r| matches!(r, Reply::Messages(_))).map(both).unwrap().0;
        assert!(
            received.contains(
                "<author><name>Ann &amp; Bo</name><id>34600111222</id></author><reply>yes</reply>\
                 <location><latitude>40.5</latitude><longitude>-3.25</longitude><name>&lt;Prado&gt;</name></location>\
                 <filename>a.pdf</filename><edited>2026-11-18 11:06:40</edited>"
            ),
            "{received}"
        );
    }
}
