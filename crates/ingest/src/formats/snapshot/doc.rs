//! The snapshot as the reader deserializes it: the types of
//! [`lockstep_model::snapshot`] down to the node, with the Get-HotFix list
//! borrowed from the text.
//!
//! A fleet is millions of hotfix entries. Read into the model's owned types,
//! every entry costs four string allocations that live only until the entry
//! is converted; here the KB and the date borrow the text and the
//! description and installer (a handful of distinct values) come from a
//! per-file interner, so an entry allocates nothing.
//!
//! These types must accept exactly what the model's types accept: every
//! field has the model's name, default and (for everything below the node)
//! type. A test compares the field lists with the model's. When this reader
//! fails, the model's types read the text again to word the error, so error
//! messages are the model's.

use lockstep_model::inventory::SharedStr;
use lockstep_model::snapshot as snap;
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::RefCell;

use crate::updates::Interner;

thread_local! {
    /// The interner of the file being read on this thread. Deserialization
    /// has no place to pass it, and a file is read on one thread.
    static STRINGS: RefCell<Interner> = RefCell::new(Interner::default());
}

/// Starts a file: strings are shared within a file, not kept across files.
pub(super) fn reset_strings() {
    STRINGS.with(|s| *s.borrow_mut() = Interner::default());
}

/// A JSON string as a [`SharedStr`] from the file's interner.
#[derive(Debug, Clone)]
pub(super) struct Shared(pub SharedStr);

impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Shared;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Shared, E> {
                Ok(Shared(STRINGS.with(|i| i.borrow_mut().get(s))))
            }
        }
        d.deserialize_string(V)
    }
}

/// [`snap::Snapshot`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", rename = "Snapshot")]
pub(super) struct SnapshotDoc<'a> {
    pub schema: String,
    pub collected_at: String,
    #[allow(dead_code)]
    pub collector: snap::Collector,
    #[serde(borrow)]
    pub clusters: Vec<ClusterDoc<'a>>,
}

/// [`snap::SnapshotCluster`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", rename = "SnapshotCluster")]
pub(super) struct ClusterDoc<'a> {
    pub name: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub domain: Option<String>,
    #[serde(default)]
    pub quorum: Option<snap::Section<snap::Quorum>>,
    #[serde(default)]
    pub shared_volume_compatible_filters: Option<Vec<String>>,
    #[serde(default)]
    pub shared_volume_incompatible_filters: Option<Vec<String>>,
    #[serde(default)]
    pub groups: Option<snap::Section<Vec<snap::Group>>>,
    #[serde(default)]
    pub shared_volumes: Option<snap::Section<Vec<snap::SharedVolume>>>,
    #[serde(borrow)]
    pub nodes: Vec<NodeDoc<'a>>,
}

/// [`snap::SnapshotNode`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", rename = "SnapshotNode")]
pub(super) struct NodeDoc<'a> {
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub node_weight: Option<u32>,
    #[serde(default)]
    pub dynamic_weight: Option<u32>,
    #[serde(default)]
    pub drain_status: Option<String>,
    pub os: snap::Section<snap::Os>,
    #[serde(borrow)]
    pub hotfixes: snap::Section<Vec<HotfixDoc<'a>>>,
    #[serde(default)]
    pub packages: Option<snap::Section<Vec<snap::Package>>>,
    #[serde(default)]
    pub update_history: Option<snap::Section<Vec<snap::HistoryEntry>>>,
    #[serde(default)]
    pub pending_reboot: Option<snap::Section<snap::PendingReboot>>,
    #[serde(default)]
    pub defender_preferences: Option<snap::Section<snap::MpPreference>>,
    #[serde(default)]
    pub defender_status: Option<snap::Section<snap::MpComputerStatus>>,
    #[serde(default)]
    pub fltmc_filters: Option<snap::Section<String>>,
    #[serde(default)]
    pub fltmc_instances: Option<snap::Section<String>>,
    #[serde(default)]
    pub installed_products: Option<snap::Section<Vec<snap::Product>>>,
    #[serde(default)]
    pub vms: Option<snap::Section<Vec<snap::Vm>>>,
    #[serde(default)]
    pub memory: Option<snap::Section<snap::Memory>>,
}

/// [`snap::Hotfix`]; borrowed where the text has no escapes (KB ids and
/// dates never do), owned where it has.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", rename = "Hotfix")]
pub(super) struct HotfixDoc<'a> {
    #[serde(borrow)]
    pub hot_fix_id: Cow<'a, str>,
    #[serde(default)]
    pub description: Option<Shared>,
    #[serde(default, borrow)]
    pub installed_on: Option<Cow<'a, str>>,
    #[serde(default)]
    pub installed_by: Option<Shared>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{self, Visitor};

    /// The field names a derived `Deserialize` passes to
    /// `deserialize_struct`, caught by a deserializer that reads nothing.
    fn fields_of<'de, T: Deserialize<'de>>() -> (&'static str, Vec<&'static str>) {
        #[derive(Debug)]
        struct Caught(&'static str, &'static [&'static str]);
        impl std::fmt::Display for Caught {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl std::error::Error for Caught {}
        impl de::Error for Caught {
            fn custom<M: std::fmt::Display>(_: M) -> Self {
                Caught("", &[])
            }
        }
        struct Catcher;
        impl<'de> de::Deserializer<'de> for Catcher {
            type Error = Caught;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Caught> {
                Err(Caught("", &[]))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Caught> {
                Err(Caught(name, fields))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf option unit unit_struct newtype_struct seq tuple
                tuple_struct map enum identifier ignored_any
            }
        }
        let e = T::deserialize(Catcher).err().expect("a struct");
        (e.0, e.1.to_vec())
    }

    /// The mirror has the model's fields (names after renaming, order) and
    /// the model's type names, so it reads and words the same documents.
    #[test]
    fn mirrors_the_model_fields() {
        assert_eq!(fields_of::<SnapshotDoc>(), fields_of::<snap::Snapshot>());
        assert_eq!(
            fields_of::<ClusterDoc>(),
            fields_of::<snap::SnapshotCluster>()
        );
        assert_eq!(fields_of::<NodeDoc>(), fields_of::<snap::SnapshotNode>());
        assert_eq!(fields_of::<HotfixDoc>(), fields_of::<snap::Hotfix>());
        assert_eq!(fields_of::<HotfixDoc>().1.len(), 4);
    }

    /// Escaped and plain strings read as the model reads them.
    #[test]
    fn hotfix_values_match_the_model() {
        reset_strings();
        let text = r#"[{"hotFixId": "KB5033118", "description": "Security Update", "installedOn": "2023-12-13", "installedBy": "NT AUTHORITY\\SYSTEM"},
                      {"hotFixId": "File\t1", "installedBy": null},
                      {"hotFixId": "KB1", "description": "Security Update", "installedBy": "NT AUTHORITY\\SYSTEM"}]"#;
        let ours: Vec<HotfixDoc> = serde_json::from_str(text).unwrap();
        let model: Vec<snap::Hotfix> = serde_json::from_str(text).unwrap();
        assert_eq!(ours.len(), model.len());
        for (o, m) in ours.iter().zip(&model) {
            assert_eq!(&*o.hot_fix_id, m.hot_fix_id.as_str());
            assert_eq!(
                o.description.as_ref().map(|s| &*s.0),
                m.description.as_deref()
            );
            assert_eq!(o.installed_on.as_deref(), m.installed_on.as_deref());
            assert_eq!(
                o.installed_by.as_ref().map(|s| &*s.0),
                m.installed_by.as_deref()
            );
        }
        assert!(matches!(ours[0].hot_fix_id, Cow::Borrowed(_)));
        let (a, b) = (ours[0].installed_by.as_ref(), ours[2].installed_by.as_ref());
        assert!(SharedStr::ptr_eq(&a.unwrap().0, &b.unwrap().0));
        // What the model rejects, this rejects.
        for bad in [
            r#"[{"description": "x"}]"#,
            r#"[{"hotFixId": 5}]"#,
            r#"[{"hotFixId": "KB1", "installedBy": 3}]"#,
        ] {
            assert!(serde_json::from_str::<Vec<snap::Hotfix>>(bad).is_err());
            assert!(
                serde_json::from_str::<Vec<HotfixDoc>>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
