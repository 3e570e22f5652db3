//! Filters of `get_archives`, `get_filtered_chats` and the auto chat scopes rules (agent
//! protocol file, 5.2, 5.3, 5.20): property filters and calendar dates.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::objects::event_serde::Key;
use crate::objects::properties::PropertyValue;
use crate::time::Timestamp;

/// What one property must satisfy: exactly one of `exists`, `values`, `exclude_values`.
///
/// Decoding refuses an object with none or with several of them ("only one is allowed for
/// single property"); other keys are ignored.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PropertyFilter {
    /// `exists`: whether the property must be set (`true`) or unset (`false`).
    Exists(bool),
    /// `values`: the property must equal one of these.
    Values(Vec<PropertyValue>),
    /// `exclude_values`: the property must equal none of these.
    ExcludeValues(Vec<PropertyValue>),
}

impl PropertyFilter {
    /// The wire key of this filter type.
    pub fn filter_type(&self) -> &'static str {
        match self {
            Self::Exists(_) => "exists",
            Self::Values(_) => "values",
            Self::ExcludeValues(_) => "exclude_values",
        }
    }

    /// Whether a property whose value is `value` (`None`: not set) passes.
    pub fn matches(&self, value: Option<&PropertyValue>) -> bool {
        match self {
            Self::Exists(e) => value.is_some() == *e,
            Self::Values(vs) => value.is_some_and(|v| vs.contains(v)),
            Self::ExcludeValues(vs) => value.is_none_or(|v| !vs.contains(v)),
        }
    }
}

impl Serialize for PropertyFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::Exists(e) => m.serialize_entry("exists", e)?,
            Self::Values(v) | Self::ExcludeValues(v) => m.serialize_entry(self.filter_type(), v)?,
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for PropertyFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropertyFilter;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property filter: one of `exists`, `values`, `exclude_values`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PropertyFilter, A::Error> {
                let mut found: Option<PropertyFilter> = None;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let filter = match &*key {
                        "exists" => PropertyFilter::Exists(map.next_value()?),
                        "values" => PropertyFilter::Values(map.next_value()?),
                        "exclude_values" => PropertyFilter::ExcludeValues(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if let Some(first) = &found {
                        return Err(de::Error::custom(format_args!(
                            "only one filter type per property (`{}` and `{}`)",
                            first.filter_type(),
                            filter.filter_type()
                        )));
                    }
                    found = Some(filter);
                }
                found.ok_or_else(|| de::Error::custom("a property filter needs `exists`, `values` or `exclude_values`"))
            }
        }
        d.deserialize_map(V)
    }
}

/// Property filters by namespace and name: `{"rating": {"score": {"values": [1]}}}`. Every
/// filter must hold. A namespace repeated in one object (as in the reference's sample, A12)
/// is read the way JSON parsers do: the last one wins.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PropertyFilters(BTreeMap<String, BTreeMap<String, PropertyFilter>>);

impl PropertyFilters {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter on `namespace.name`, returning `self`.
    #[must_use]
    pub fn with(mut self, namespace: impl Into<String>, name: impl Into<String>, filter: PropertyFilter) -> Self {
        self.0.entry(namespace.into()).or_default().insert(name.into(), filter);
        self
    }

    /// Every `(namespace, name, filter)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &PropertyFilter)> {
        self.0.iter().flat_map(|(ns, m)| m.iter().map(move |(k, f)| (ns.as_str(), k.as_str(), f)))
    }

    /// Whether there are no filters.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }

    /// Whether every filter holds for properties read by `get(namespace, name)`.
    pub fn matches<'a>(&self, get: impl Fn(&str, &str) -> Option<&'a PropertyValue>) -> bool {
        self.iter().all(|(ns, name, f)| f.matches(get(ns, name)))
    }
}

/// A calendar day, `YYYY-MM-DD` on the wire (`get_archives` dates; UTC days, H22).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The day, if it exists (years 1970–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let ok = (1970..=9999).contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in(year, month);
        ok.then_some(Self { year, month, day })
    }

    /// Year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// Month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of the month.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01.
    pub fn unix_day(self) -> u64 {
        let y = u64::from(self.year);
        let leaps = |y: u64| y / 4 - y / 100 + y / 400;
        let before_year = (y - 1970) * 365 + leaps(y - 1) - leaps(1969);
        let before_month: u64 = (1..self.month).map(|m| u64::from(days_in(self.year, m))).sum();
        before_year + before_month + u64::from(self.day) - 1
    }

    /// The UTC day a timestamp falls on (days past 9999-12-31 give that day).
    pub fn of(t: Timestamp) -> Self {
        let mut days = t.as_secs().min(Timestamp::MAX.as_secs()) / 86_400;
        let mut year = 1970u16;
        loop {
            let len = if is_leap(year) { 366 } else { 365 };
            if days < len || year == 9999 {
                break;
            }
            days -= len;
            year += 1;
        }
        let mut month = 1u8;
        while month < 12 && days >= u64::from(days_in(year, month)) {
            days -= u64::from(days_in(year, month));
            month += 1;
        }
        // `days` is below the month's length (at most 31) here.
        let day = u8::try_from(days + 1).unwrap_or(31).min(days_in(year, month));
        Self { year, month, day }
    }

    /// The first second of the day.
    pub fn start(self) -> Timestamp {
        Timestamp::from_secs(self.unix_day() * 86_400)
    }
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Why a text is not a `YYYY-MM-DD` date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateError;

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a YYYY-MM-DD date between 1970 and 9999")
    }
}

impl std::error::Error for DateError {}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, DateError> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(DateError);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, DateError> {
            let part = s.get(r).ok_or(DateError)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(DateError);
            }
            part.parse().map_err(|_| DateError)
        };
        let year = num(0..4)?;
        let month = u8::try_from(num(5..7)?).map_err(|_| DateError)?;
        let day = u8::try_from(num(8..10)?).map_err(|_| DateError)?;
        Date::new(year, month, day).ok_or(DateError)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YYYY-MM-DD date")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
                v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_type_per_property() {
        let f: PropertyFilters =
            serde_json::from_str(r#"{"rating":{"score":{"values":[1,2]},"comment":{"exists":true,"x":0}}}"#).unwrap();
        assert_eq!(f.iter().count(), 2);
        let one = PropertyValue::Int(1);
        assert!(f.matches(|_, _| Some(&one)));
        assert!(!f.matches(|_, name| if name == "score" { Some(&one) } else { None }));
        for bad in [r#"{"a":{"b":{"exists":true,"values":[1]}}}"#, r#"{"a":{"b":{}}}"#] {
            assert!(serde_json::from_str::<PropertyFilters>(bad).is_err(), "{bad}");
        }
        // A12: a namespace repeated in one object: the last wins.
        let dup: PropertyFilters =
            serde_json::from_str(r#"{"rating":{"score":{"values":[1]}},"rating":{"comment":{"exists":true}}}"#)
                .unwrap();
        assert_eq!(dup.iter().map(|(_, n, _)| n).collect::<Vec<_>>(), ["comment"]);
    }

    #[test]
    fn exclude_values_passes_unset_properties() {
        let f = PropertyFilter::ExcludeValues(vec![PropertyValue::Int(1)]);
        assert!(f.matches(None));
        assert!(!f.matches(Some(&PropertyValue::Int(1))));
        assert!(!PropertyFilter::Values(vec![]).matches(None));
    }

    #[test]
    fn dates() {
        let d: Date = "2016-02-29".parse().unwrap();
        assert_eq!(d.to_string(), "2016-02-29");
        for bad in ["2017-02-29", "2016-13-01", "16-02-01", "2016-2-01", "2016-02-0a", "1969-12-31", "+016-02-01"] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert_eq!(Date::new(1970, 1, 1).unwrap().unix_day(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().unix_day(), 11_017);
        for secs in [0, 86_399, 86_400, 951_782_400, 1_520_000_000, 4_107_542_399] {
            let t = Timestamp::from_secs(secs);
            let day = Date::of(t);
            assert!(day.start() <= t && t.as_secs() < day.start().as_secs() + 86_400, "{secs} {day}");
        }
        assert_eq!(Date::of(Timestamp::from_secs(951_782_400)).to_string(), "2000-02-29");
        assert_eq!(Date::of(Timestamp::from_secs(u64::MAX)).to_string(), "9999-12-31");
    }
}
