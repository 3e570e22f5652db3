//! Objects only the Agent API has (agent protocol file, 4 and 5): the license, chat
//! summaries with their last thread, bans, filters, multicast targets and auto chat scopes.
//! The objects both APIs share (chats, threads, users, events...) live in `crate::objects`.

pub(crate) mod auto_chat_scopes;
pub(crate) mod ban;
pub(crate) mod chat_summary;
pub(crate) mod filters;
pub(crate) mod license;
pub(crate) mod multicast;

use std::fmt;

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};

/// Agent group ids: integers, or numeric strings (A24: `multicast` types them `[]string`).
pub(crate) fn group_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u64>>, D::Error> {
    struct GroupId(u64);
    impl<'de> serde::Deserialize<'de> for GroupId {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = GroupId;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a group id (a non-negative integer or a string of digits)")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<GroupId, E> {
                    Ok(GroupId(v))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<GroupId, E> {
                    v.trim().parse().map(GroupId).map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            d.deserialize_any(V)
        }
    }
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<u64>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of group ids")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(GroupId(id)) = seq.next_element()? {
                out.push(id);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(V)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct G {
        #[serde(default, deserialize_with = "super::group_ids")]
        groups: Option<Vec<u64>>,
    }

    #[test]
    fn group_ids_are_integers_or_digit_strings() {
        let g: G = serde_json::from_str(r#"{"groups":[1,"2"," 3"]}"#).unwrap();
        assert_eq!(g.groups, Some(vec![1, 2, 3]));
        assert_eq!(serde_json::from_str::<G>(r#"{"groups":null}"#).unwrap().groups, None);
        let err = serde_json::from_str::<G>(r#"{"groups":["x"]}"#).err().unwrap();
        assert!(err.to_string().contains("group id"), "{err}");
        assert!(serde_json::from_str::<G>(r#"{"groups":[-1]}"#).is_err());
    }
}
