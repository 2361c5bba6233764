//! Adding many updates to nodes cheaply.
//!
//! A fleet is millions of installed updates, each parsed once, so two costs
//! that do not show on one capture dominate a fleet load:
//!
//! * [`Node::add_update`] finds a KB by searching the node's list, which is
//!   quadratic in the updates of a node when a parser adds them one by one.
//!   [`UpdateIndex`] keeps a KB → position map next to the list instead,
//!   with exactly the same semantics (the first source that names a KB wins,
//!   later ones only fill what it lacked, order of first appearance kept).
//! * Every update carries a description and an installer, and a fleet has a
//!   handful of distinct values ("Security Update", "NT AUTHORITY\SYSTEM"):
//!   [`Interner`] hands out one [`SharedStr`] per distinct value of a file.

use lockstep_model::inventory::SharedStr;
use lockstep_model::{InstalledUpdate, KbId, KbMap, Node};
use std::collections::HashSet;

/// Position of every KB in one node's `updates`, for adding many updates to
/// that node in linear time. Only valid while nothing else changes the list.
#[derive(Default)]
pub(crate) struct UpdateIndex {
    at: KbMap<usize>,
}

impl UpdateIndex {
    /// An index of the updates `node` already has.
    /// An empty index with room for `n` KBs.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            at: KbMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    pub(crate) fn of(node: &Node) -> Self {
        let mut at = KbMap::with_capacity_and_hasher(node.updates.len(), Default::default());
        for (i, u) in node.updates.iter().enumerate() {
            // The list is deduplicated, but keep the first position if not.
            at.entry(u.kb).or_insert(i);
        }
        Self { at }
    }

    pub(crate) fn contains(&self, kb: KbId) -> bool {
        self.at.contains_key(&kb)
    }

    /// [`Node::add_update`] without the search.
    pub(crate) fn add(&mut self, node: &mut Node, u: InstalledUpdate) {
        match self.at.get(&u.kb).and_then(|&i| node.updates.get_mut(i)) {
            Some(existing) => existing.fill_missing_from(u),
            None => {
                self.at.insert(u.kb, node.updates.len());
                node.updates.push(u);
            }
        }
    }
}

/// One [`SharedStr`] per distinct string. A few recent values are
/// compared first: a capture alternates between a handful of them
/// ("Security Update", "NT AUTHORITY\SYSTEM"), and comparing two short
/// strings is cheaper than hashing one.
#[derive(Default)]
pub(crate) struct Interner {
    recent: Vec<SharedStr>,
    /// Slot of `recent` that the next miss replaces.
    next: usize,
    seen: HashSet<SharedStr>,
}

/// How many recent values [`Interner`] compares before hashing.
const RECENT: usize = 4;

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> SharedStr {
        if let Some(hit) = self.recent.iter().find(|r| ***r == *s) {
            return hit.clone();
        }
        let shared = match self.seen.get(s) {
            Some(a) => a.clone(),
            None => {
                let a = SharedStr::from(s);
                self.seen.insert(a.clone());
                a
            }
        };
        if self.recent.len() < RECENT {
            self.recent.push(shared.clone());
        } else if let Some(slot) = self.recent.get_mut(self.next) {
            *slot = shared.clone();
        }
        self.next = (self.next + 1) % RECENT;
        shared
    }

    /// The trimmed value, interned, or `None` when it is empty or blank.
    pub(crate) fn trimmed(&mut self, s: Option<&str>) -> Option<SharedStr> {
        let s = s?.trim();
        (!s.is_empty()).then(|| self.get(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_model::SourceRef;

    fn upd(kb: u32, desc: Option<&str>, by: Option<&str>, line: u32) -> InstalledUpdate {
        InstalledUpdate {
            kb: KbId(kb),
            id_text: None,
            description: desc.map(SharedStr::from),
            installed_on: None,
            installed_by: by.map(SharedStr::from),
            source: SourceRef::new("f", line),
        }
    }

    /// The index gives exactly what `Node::add_update` gives, on a sequence
    /// with repeats, fills and a node that already had updates.
    #[test]
    fn index_matches_add_update() {
        let mut seed = Node::default();
        seed.add_update(upd(1, None, None, 1));
        seed.add_update(upd(2, Some("Update"), None, 2));
        let incoming = [
            upd(3, None, None, 3),
            upd(1, Some("Security Update"), None, 4),
            upd(2, Some("Hotfix"), Some("SYSTEM"), 5),
            upd(3, Some("Update"), Some("admin"), 6),
            upd(4, None, None, 7),
            upd(1, Some("later"), Some("later"), 8),
        ];
        let mut plain = seed.clone();
        for u in incoming.iter().cloned() {
            plain.add_update(u);
        }
        let mut indexed = seed.clone();
        let mut index = UpdateIndex::of(&indexed);
        for u in incoming.iter().cloned() {
            index.add(&mut indexed, u);
        }
        assert_eq!(indexed.updates, plain.updates);
        let got: Vec<(u32, Option<&str>, Option<&str>, u32)> = indexed
            .updates
            .iter()
            .map(|u| {
                (
                    u.kb.0,
                    u.description.as_deref(),
                    u.installed_by.as_deref(),
                    u.source.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Some("Security Update"), Some("later"), 1),
                (2, Some("Update"), Some("SYSTEM"), 2),
                (3, Some("Update"), Some("admin"), 3),
                (4, None, None, 7),
            ]
        );
        assert!(index.contains(KbId(4)) && !index.contains(KbId(5)));
    }

    #[test]
    fn interner_shares_equal_strings() {
        let mut i = Interner::default();
        let a = i.get("Security Update");
        let b = i.get("Update");
        let c = i.get("Security Update");
        assert!(SharedStr::ptr_eq(&a, &c));
        assert!(!SharedStr::ptr_eq(&a, &b));
        assert_eq!((&*a, &*b), ("Security Update", "Update"));
        assert_eq!(i.trimmed(Some("  ")), None);
        assert_eq!(i.trimmed(None), None);
        let d = i.trimmed(Some(" Update ")).unwrap();
        assert!(SharedStr::ptr_eq(&b, &d));
        // More distinct values than the recent slots: still one Arc each.
        let many: Vec<SharedStr> = (0..10).map(|n| i.get(&format!("v{n}"))).collect();
        for (n, first) in many.iter().enumerate() {
            assert!(SharedStr::ptr_eq(first, &i.get(&format!("v{n}"))));
        }
        assert!(SharedStr::ptr_eq(&a, &i.get("Security Update")));
    }
}
