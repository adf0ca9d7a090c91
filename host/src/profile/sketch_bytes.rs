//! Sketches in serialised profiles: their DataSketches binary form (which other DataSketches
//! libraries read too) as base64 text, so a profile stays a plain JSON document.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// Write sketch bytes as base64.
pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

/// Read base64 back into sketch bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    STANDARD
        .decode(text)
        .map_err(|e| D::Error::custom(format!("a sketch is not valid base64: {e}")))
}

/// Implements `Serialize` and `Deserialize` for a sketch wrapper through its bytes.
macro_rules! serde_via_bytes {
    ($type:ty, $to_bytes:expr, $from_bytes:expr) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let to_bytes: fn(&$type) -> Vec<u8> = $to_bytes;
                $crate::profile::sketch_bytes::serialize(&to_bytes(self), serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let bytes = $crate::profile::sketch_bytes::deserialize(deserializer)?;
                let from_bytes: fn(&[u8]) -> Result<$type, String> = $from_bytes;
                from_bytes(&bytes).map_err(D::Error::custom)
            }
        }
    };
}

pub(crate) use serde_via_bytes;
