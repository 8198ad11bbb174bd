//! The messages users read when they pass bad input, pinned with insta.

use std::time::Duration;

use bytes::Bytes;
use strata_core::{Key, Namespace, Pattern, SetOptions, Tag, Ttl, envelope};

fn message<T: std::fmt::Debug>(r: strata_core::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn bad_input_messages() {
    let ns = Namespace::new("users").unwrap();
    let messages = [
        message(Namespace::new("")),
        message(Namespace::new("has space")),
        message(Namespace::new("x".repeat(65))),
        message(Key::new(&ns, "")),
        message(Key::new(&ns, &"k".repeat(1025))),
        message(Key::with_max_len(&ns, "abcdef", 4)),
        message(Key::parse("no-namespace")),
        message(Tag::new("")),
        message(Tag::new("bad\ttag")),
        message(Pattern::new("user:[abc")),
        message(Pattern::new("trailing\\")),
        message(Ttl::After(Duration::ZERO).validate()),
        message(Ttl::After(Duration::from_micros(500)).validate()),
        message(SetOptions::new().tti(Duration::ZERO).validate()),
        message(envelope::decode(&Bytes::from_static(b"{\"raw\":\"json\"}"))),
        message(envelope::decode(&Bytes::from_static(b"\xff\x53\x07"))),
        message(envelope::decode(&Bytes::from_static(
            b"\xff\x53\x01\x01\x00\x00",
        ))),
        message("zstd2".parse::<strata_core::CodecId>()),
    ];
    insta::assert_debug_snapshot!(messages);
}
