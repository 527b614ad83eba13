//! Block postings, pure: a sorted list of document numbers packed as varint deltas (one
//! IndexedDB record per term per indexer slice, `store/search.rs`), and the sorted-list
//! operations a query runs on them (union of a term's blocks or a prefix's terms,
//! intersection of words, tombstones taken out).
//!
//! A delta of consecutive numbers is one byte: a word in every message of a slice of 500 costs
//! about 500 bytes, where one IndexedDB key per posting cost about 190 bytes each.

/// Document numbers one block may hold when decoded: a record of the index is trusted no more
/// than any other stored value (a block is at most one slice of messages).
pub const MAX_BLOCK_DOCS: usize = 1 << 20;

/// A stored block that does not decode: cut in a varint, a number past `u32`, or too long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("a search index block ends inside a number")]
    Truncated,
    #[error("a search index block holds a number past 2^32")]
    Overflow,
    #[error("a search index block holds more than {MAX_BLOCK_DOCS} numbers")]
    TooLong,
}

/// Packs `docs` (sorted, distinct) as the first number, then each gap to the previous, in
/// LEB128 varints.
pub fn encode(docs: &[u32]) -> Vec<u8> {
    debug_assert!(docs.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    let mut out = Vec::with_capacity(docs.len() + 4);
    let mut prev = 0u32;
    for (i, &d) in docs.iter().enumerate() {
        let mut v = if i == 0 { d } else { d - prev };
        prev = d;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// Appends the numbers packed in `bytes` to `out` (they come out sorted).
pub fn decode_into(bytes: &[u8], out: &mut Vec<u32>) -> Result<(), BlockError> {
    let mut prev: u32 = 0;
    let mut first = true;
    let mut v: u64 = 0;
    let mut shift = 0u32;
    let mut count = 0usize;
    for &b in bytes {
        if shift > 28 {
            return Err(BlockError::Overflow);
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            shift += 7;
            continue;
        }
        let d = if first { v } else { u64::from(prev) + v };
        let d = u32::try_from(d).map_err(|_| BlockError::Overflow)?;
        count += 1;
        if count > MAX_BLOCK_DOCS {
            return Err(BlockError::TooLong);
        }
        out.push(d);
        prev = d;
        first = false;
        v = 0;
        shift = 0;
    }
    if shift != 0 {
        return Err(BlockError::Truncated);
    }
    Ok(())
}

/// The numbers packed in `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Vec<u32>, BlockError> {
    let mut out = Vec::new();
    decode_into(bytes, &mut out)?;
    Ok(out)
}

/// Sorts and deduplicates numbers gathered from several blocks (a term's blocks are in
/// number order already, a prefix's terms are not).
pub fn union(mut docs: Vec<u32>) -> Vec<u32> {
    if !docs.windows(2).all(|w| w[0] < w[1]) {
        docs.sort_unstable();
        docs.dedup();
    }
    docs
}

/// The numbers in both sorted lists.
pub fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The numbers of sorted `a` not in sorted `dead` (the tombstones).
pub fn without(a: &[u32], dead: &[u32]) -> Vec<u32> {
    if dead.is_empty() {
        return a.to_vec();
    }
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&d| {
            while j < dead.len() && dead[j] < d {
                j += 1;
            }
            !(j < dead.len() && dead[j] == d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbers_round_trip_through_a_block() {
        let docs = vec![0, 1, 2, 127, 128, 300, 16_384, 2_000_000, u32::MAX];
        let bytes = encode(&docs);
        assert_eq!(decode(&bytes).unwrap(), docs);
        // Consecutive numbers are one byte each.
        assert_eq!(encode(&[5000, 5001, 5002, 5003]).len(), 2 + 3);
        assert_eq!(decode(&[]).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn a_damaged_block_is_refused_not_misread() {
        let bytes = encode(&[1, 300]);
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(BlockError::Truncated)
        );
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(BlockError::Overflow)
        );
        // A gap that carries the sum past u32.
        let mut past = encode(&[u32::MAX]);
        past.push(1);
        assert_eq!(decode(&past), Err(BlockError::Overflow));
    }

    #[test]
    fn blocks_of_two_slices_union_and_intersect() {
        let mut gathered = decode(&encode(&[7, 9, 12])).unwrap();
        decode_into(&encode(&[3, 9, 20]), &mut gathered).unwrap();
        let all = union(gathered);
        assert_eq!(all, [3, 7, 9, 12, 20]);
        assert_eq!(intersect(&all, &[1, 3, 12, 21]), [3, 12]);
        assert_eq!(intersect(&all, &[]), Vec::<u32>::new());
        assert_eq!(without(&all, &[7, 12, 99]), [3, 9, 20]);
        assert_eq!(without(&all, &[]), all);
    }
}
