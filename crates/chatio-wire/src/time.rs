//! Wire timestamps.
//!
//! Every timestamp on the v0.5 wire is an integer count of seconds since the Unix epoch (UTC):
//! `timestamp`, `last_seen_timestamp`, typing-indicator and sneak-peek times (protocol file,
//! section 0 and D5). [`Timestamp`] keeps that unit; layers above convert once with
//! [`Timestamp::to_system_time`] or [`Timestamp::as_millis`]. This crate never reads a clock:
//! [`Timestamp::from_system_time`] takes the time it is given.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Unix time in whole seconds, as carried on the wire.
///
/// Decoding accepts a non-negative integer (canonical) and, tolerantly, a non-negative finite
/// float, whose fraction is dropped. Encoding always writes an integer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp of `secs` seconds since the Unix epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch, the wire value.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Milliseconds since the Unix epoch (what the JS SDK hands its users).
    pub const fn as_millis(self) -> u64 {
        self.0.saturating_mul(1000)
    }

    /// The latest timestamp [`to_system_time`](Self::to_system_time) represents:
    /// 9999-12-31T23:59:59Z, within `SystemTime`'s range on every platform.
    pub const MAX: Timestamp = Timestamp(253_402_300_799);

    /// The timestamp as a [`SystemTime`]. Total: a value past [`Timestamp::MAX`] (which no
    /// real server sends, but a frame may carry: `SystemTime` would overflow) gives
    /// `Timestamp::MAX`'s time.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.min(Self::MAX.0))
    }

    /// The whole seconds of `t` since the Unix epoch; times before the epoch give 0.
    pub fn from_system_time(t: SystemTime) -> Self {
        Self(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}s)", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> SystemTime {
        t.to_system_time()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative Unix time in seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                u64::try_from(v).map(Timestamp).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(Timestamp(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_seconds_once() {
        let t = Timestamp::from_secs(1_520_000_000);
        assert_eq!(t.as_millis(), 1_520_000_000_000);
        assert_eq!(Timestamp::from_system_time(t.to_system_time()), t);
        assert_eq!(Timestamp::from_system_time(UNIX_EPOCH - Duration::from_secs(5)).as_secs(), 0);
    }

    #[test]
    fn any_wire_value_converts_without_overflow() {
        // Found by the `core_session` fuzzer: `UNIX_EPOCH + u64::MAX seconds` panicked.
        for secs in [Timestamp::MAX.as_secs(), Timestamp::MAX.as_secs() + 1, i64::MAX as u64, u64::MAX] {
            assert_eq!(Timestamp::from_secs(secs).to_system_time(), Timestamp::MAX.to_system_time(), "{secs}");
        }
        assert_eq!(Timestamp::from_system_time(Timestamp::MAX.to_system_time()), Timestamp::MAX);
        assert_eq!(Timestamp::from_secs(u64::MAX).as_millis(), u64::MAX);
        let huge: Timestamp = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(huge.to_system_time(), Timestamp::MAX.to_system_time());
    }

    #[test]
    fn decodes_tolerantly_and_encodes_integers() {
        let t: Timestamp = serde_json::from_str("1473433500.75").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "1473433500");
        assert!(serde_json::from_str::<Timestamp>("-1").is_err());
        assert!(serde_json::from_str::<Timestamp>("\"1\"").is_err());
    }
}
