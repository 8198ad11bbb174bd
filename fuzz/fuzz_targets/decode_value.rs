//! Any bytes read from Redis go through `ValueFormat::decode` (the envelope, LZ4 and
//! Zstandard decompression, plain integers, legacy JSON): it must return a value or a `Codec`
//! error, never panic, and never allocate past its limit.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use strata_core::{ErrorKind, Key, Namespace, Timestamp};
use strata_redis::{Compression, CompressionConfig, ValueFormat};

fuzz_target!(|data: &[u8]| {
    let key = Key::new(&Namespace::new("fuzz").unwrap(), "k").unwrap();
    for legacy_json in [false, true] {
        let format = ValueFormat::new(
            CompressionConfig {
                algorithm: Compression::Lz4,
                threshold: 64,
            },
            legacy_json,
            1 << 20,
        );
        match format.decode(&key, Bytes::copy_from_slice(data), Timestamp::from_millis(1)) {
            Ok(Some(entry)) => assert!(entry.value().len() <= 1 << 20),
            Ok(None) => assert!(data.starts_with(&[0xFF, 0x54]), "only a tombstone reads as missing"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Codec, "{e}"),
        }
    }
});
