//! MSRC CVRF documents in JSON (`Accept: application/json` on
//! `/cvrf/v3.0/cvrf/{ID}`).
//!
//! The JSON is a serialisation of the same CVRF 1.1 object model as the XML,
//! with two quirks: many strings are wrapped as `{"Value": "..."}` (and empty
//! ones as `{}`), and enumerations are numbers — remediation `Type` 2 is Vendor
//! Fix, threat `Type` 0 is Impact and 3 is Severity. Fields lockstep does not
//! use are skipped by the deserializer without being kept in memory.

use crate::batch::{ImportBatch, parse_iso_date_prefix};
use crate::cvrf::{
    CvrfRemediation, CvrfThreat, CvrfVulnerability, ProductTree, ThreatKind, apply_vulnerability,
};
use crate::error::ParseError;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::io::Read;

/// A string that may be written plain, wrapped as `{"Value": ...}`, `{}`,
/// `null`, or (for enumerations) as a number.
#[derive(Debug, Default, Clone)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number, or an object {\"Value\": string}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut out = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Value" {
                        out = map.next_value::<Text>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Text(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `null` where an array is expected reads as an empty array.
fn nullable_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Text {
    fn get(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonDoc {
    #[serde(rename = "DocumentTitle")]
    title: Text,
    #[serde(rename = "DocumentTracking")]
    tracking: Option<Tracking>,
    #[serde(rename = "ProductTree")]
    product_tree: Option<JsonProductTree>,
    #[serde(rename = "Vulnerability", deserialize_with = "nullable_vec")]
    vulnerabilities: Vec<JsonVulnerability>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tracking {
    #[serde(rename = "Identification")]
    identification: Option<Identification>,
    #[serde(rename = "InitialReleaseDate")]
    initial_release: Text,
    #[serde(rename = "CurrentReleaseDate")]
    current_release: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Identification {
    #[serde(rename = "ID")]
    id: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonProductTree {
    #[serde(rename = "Branch", deserialize_with = "nullable_vec")]
    branches: Vec<Branch>,
    #[serde(rename = "FullProductName", deserialize_with = "nullable_vec")]
    full_product_names: Vec<FullProductName>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Branch {
    #[serde(rename = "Items", deserialize_with = "nullable_vec")]
    items: Vec<BranchItem>,
}

/// A branch item is either a nested branch (with `Items`) or a product (with
/// `ProductID` and `Value`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct BranchItem {
    #[serde(rename = "Items", deserialize_with = "nullable_vec")]
    items: Vec<BranchItem>,
    #[serde(rename = "ProductID")]
    product_id: Text,
    #[serde(rename = "Value")]
    value: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FullProductName {
    #[serde(rename = "ProductID")]
    product_id: Text,
    #[serde(rename = "Value")]
    value: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonVulnerability {
    #[serde(rename = "CVE")]
    cve: Text,
    #[serde(rename = "RevisionHistory", deserialize_with = "nullable_vec")]
    revisions: Vec<JsonRevision>,
    #[serde(rename = "Threats", deserialize_with = "nullable_vec")]
    threats: Vec<JsonThreat>,
    #[serde(rename = "Remediations", deserialize_with = "nullable_vec")]
    remediations: Vec<JsonRemediation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonRevision {
    #[serde(rename = "Date")]
    date: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonThreat {
    #[serde(rename = "Type")]
    kind: Text,
    #[serde(rename = "Description")]
    description: Text,
    #[serde(rename = "ProductID", deserialize_with = "nullable_vec")]
    product_ids: Vec<Text>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JsonRemediation {
    #[serde(rename = "Type")]
    kind: Text,
    #[serde(rename = "Description")]
    description: Text,
    #[serde(rename = "Supercedence")]
    supercedence: Text,
    #[serde(rename = "ProductID", deserialize_with = "nullable_vec")]
    product_ids: Vec<Text>,
    #[serde(rename = "RestartRequired")]
    restart_required: Text,
    #[serde(rename = "SubType")]
    subtype: Text,
    #[serde(rename = "FixedBuild")]
    fixed_build: Text,
}

fn collect_items(items: &[BranchItem], tree: &mut ProductTree) {
    for item in items {
        if let (Some(id), Some(name)) = (&item.product_id.0, &item.value.0)
            && !name.trim().is_empty()
        {
            tree.ids
                .entry(id.trim().to_string())
                .or_insert_with(|| name.trim().to_string());
        }
        collect_items(&item.items, tree);
    }
}

/// Parses a CVRF JSON document into `batch`.
pub(crate) fn parse_json<R: Read>(input: R, batch: &mut ImportBatch) -> Result<(), ParseError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let doc = JsonDoc::deserialize(&mut de).map_err(|e| ParseError {
        offset: 0,
        line: Some(e.line() as u64),
        message: if e.is_eof() {
            format!("the JSON document ends early (truncated?): {e}")
        } else {
            format!("expected a CVRF JSON document: {e}")
        },
    })?;
    de.end().map_err(|e| ParseError {
        offset: 0,
        line: Some(e.line() as u64),
        message: format!("unexpected data after the JSON document: {e}"),
    })?;
    let tracking = doc.tracking.unwrap_or_default();
    let id = tracking
        .identification
        .and_then(|i| i.id.0)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError {
            offset: 0,
            line: Some(1),
            message: "expected DocumentTracking.Identification.ID (the document id, e.g. 2023-Dec)"
                .into(),
        })?;
    batch.name = id;
    batch.title = doc.title.0.filter(|s| !s.trim().is_empty());
    batch.initial_release = parse_iso_date_prefix(tracking.initial_release.get());
    batch.current_release = tracking.current_release.0.filter(|s| !s.trim().is_empty());
    let mut tree = ProductTree::default();
    if let Some(pt) = &doc.product_tree {
        for b in &pt.branches {
            collect_items(&b.items, &mut tree);
        }
        for f in &pt.full_product_names {
            if let (Some(id), Some(name)) = (&f.product_id.0, &f.value.0)
                && !name.trim().is_empty()
            {
                tree.ids
                    .entry(id.trim().to_string())
                    .or_insert_with(|| name.trim().to_string());
            }
        }
    }
    batch.counts.tree_products = tree.ids.len() as u64;
    let ids = |v: Vec<Text>| v.into_iter().filter_map(|t| t.0).collect::<Vec<_>>();
    for v in doc.vulnerabilities {
        let vuln = CvrfVulnerability {
            cve: v.cve.0,
            revisions: v
                .revisions
                .iter()
                .filter_map(|r| parse_iso_date_prefix(r.date.get()))
                .collect(),
            threats: v
                .threats
                .into_iter()
                .map(|t| CvrfThreat {
                    kind: match t.kind.get() {
                        "0" | "Impact" => ThreatKind::Impact,
                        "3" | "Severity" => ThreatKind::Severity,
                        _ => ThreatKind::Other,
                    },
                    description: t.description.0.unwrap_or_default(),
                    product_ids: ids(t.product_ids),
                })
                .collect(),
            remediations: v
                .remediations
                .into_iter()
                .map(|r| CvrfRemediation {
                    vendor_fix: matches!(r.kind.get(), "2" | "Vendor Fix"),
                    description: r.description.0.unwrap_or_default(),
                    supercedence: r.supercedence.0.unwrap_or_default(),
                    product_ids: ids(r.product_ids),
                    restart_required: r.restart_required.0,
                    subtype: r.subtype.0,
                    fixed_build: r.fixed_build.0,
                })
                .collect(),
        };
        apply_vulnerability(batch, &tree, vuln);
    }
    Ok(())
}
