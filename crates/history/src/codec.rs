//! Compact encodings of what the stores keep as blobs: update sets (sorted
//! KB numbers) and run members (node ids with their observation times).
//!
//! Both are sorted integer lists, written as LEB128 varints of the gaps: a
//! node's 300 KB numbers take about 600 bytes instead of 1,200 as `u32`s or
//! 2,400 as text, which is most of what keeps a year of a fleet small.

use sha2::{Digest, Sha256};

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        if shift >= 64 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// A sorted, duplicate-free KB list as gaps.
pub fn encode_kbs(kbs: &[u32]) -> Vec<u8> {
    debug_assert!(kbs.windows(2).all(|w| w[0] < w[1]));
    let mut out = Vec::with_capacity(kbs.len() * 2 + 1);
    let mut last = 0u32;
    for &kb in kbs {
        put_varint(&mut out, u64::from(kb - last));
        last = kb;
    }
    out
}

/// The inverse of [`encode_kbs`]; `None` for bytes it did not write.
pub fn decode_kbs(bytes: &[u8]) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut at = 0;
    let mut last = 0u32;
    while at < bytes.len() {
        let gap = u32::try_from(get_varint(bytes, &mut at)?).ok()?;
        if gap == 0 && !out.is_empty() {
            return None;
        }
        last = last.checked_add(gap)?;
        out.push(last);
    }
    Some(out)
}

/// The identity of an update set: SHA-256 of its encoding, first 16 bytes
/// (two different sets colliding is as likely as a random 128-bit match).
pub fn set_hash(encoded: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"lockstep-update-set/1\n");
    h.update(encoded);
    h.finalize()[..16].to_vec()
}

/// The identity of any other deduplicated text (finding sets).
pub fn text_hash(domain: &str, text: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
    h.finalize()[..16].to_vec()
}

/// Row ids (a finding set's findings), sorted and deduplicated, as gaps.
pub fn encode_ids(ids: &[i64]) -> Vec<u8> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::with_capacity(sorted.len() * 2);
    let mut last = 0i64;
    for id in sorted {
        put_varint(&mut out, zigzag(id - last));
        last = id;
    }
    out
}

pub fn decode_ids(bytes: &[u8]) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut last = 0i64;
    while at < bytes.len() {
        last = last.checked_add(unzigzag(get_varint(bytes, &mut at)?))?;
        out.push(last);
    }
    Some(out)
}

/// Run members: (node id, how many seconds before the run the node's
/// observation was collected), sorted by node id. For a snapshot every
/// member was collected at the run's time, so the offset is 0.
pub fn encode_members(members: &[(i64, i64)]) -> Vec<u8> {
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    let mut out = Vec::with_capacity(sorted.len() * 3);
    let mut last = 0i64;
    for (id, offset) in sorted {
        put_varint(&mut out, zigzag(id - last));
        put_varint(&mut out, zigzag(offset));
        last = id;
    }
    out
}

pub fn decode_members(bytes: &[u8]) -> Option<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut last = 0i64;
    while at < bytes.len() {
        let id = last.checked_add(unzigzag(get_varint(bytes, &mut at)?))?;
        let offset = unzigzag(get_varint(bytes, &mut at)?);
        out.push((id, offset));
        last = id;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_real_set_round_trips_in_few_bytes() {
        let kbs = [890830, 2607712, 2616676, 5012170, 5032198, 5033118];
        let e = encode_kbs(&kbs);
        assert_eq!(decode_kbs(&e).unwrap(), kbs);
        assert!(e.len() <= 4 * kbs.len(), "{} bytes", e.len());
        assert_eq!(decode_kbs(&[]).unwrap(), Vec::<u32>::new());
        assert_ne!(set_hash(&e), set_hash(&encode_kbs(&kbs[1..])));
        assert_eq!(set_hash(&e).len(), 16);
    }

    #[test]
    fn bytes_it_did_not_write_are_refused() {
        assert_eq!(decode_kbs(&[0x80]), None);
        assert_eq!(decode_kbs(&[5, 0]), None);
        assert_eq!(decode_members(&[0x02]), None);
    }

    proptest! {
        #[test]
        fn sets_round_trip(mut kbs in proptest::collection::vec(1u32..99_999_999, 0..400)) {
            kbs.sort_unstable();
            kbs.dedup();
            prop_assert_eq!(decode_kbs(&encode_kbs(&kbs)).unwrap(), kbs);
        }

        #[test]
        fn ids_round_trip(ids in proptest::collection::btree_set(1i64..10_000_000, 0..60)) {
            let ids: Vec<i64> = ids.into_iter().collect();
            prop_assert_eq!(decode_ids(&encode_ids(&ids)).unwrap(), ids);
        }

        #[test]
        fn members_round_trip(m in proptest::collection::btree_map(1i64..1_000_000, -400_000i64..400_000, 0..40)) {
            let members: Vec<(i64, i64)> = m.into_iter().collect();
            prop_assert_eq!(decode_members(&encode_members(&members)).unwrap(), members);
        }
    }
}
