//! One stable sort for the app's lists. `slice::sort_by` is compiled again for every element
//! and comparator type (driftsort, about 4 KB of wasm each time: 61 KB in 123 functions,
//! docs/toolchain.md); these sort a list of indices through one comparator behind `dyn`, so
//! the standard library's sort is in the wasm once for all of them, then move the items into
//! that order in place. The result is `slice::sort_by`'s: stable, equal items keep their order.

use std::cmp::Ordering;

/// Sorts `items` stably by `cmp`, as `items.sort_by(cmp)` would.
pub fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    indices(&mut order, &|a, b| cmp(&items[a], &items[b]));
    // `order[k]` is the index of the item that belongs at `k`: follow each cycle once,
    // marking a place done by pointing it at itself.
    for i in 0..order.len() {
        if order[i] == i {
            continue;
        }
        let mut j = i;
        loop {
            let next = order[j];
            order[j] = j;
            if next == i {
                break;
            }
            items.swap(j, next);
            j = next;
        }
    }
}

/// Sorts `items` stably by `key`, as `items.sort_by_key(key)` would.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// The one instantiation of the standard library's stable sort.
fn indices(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `items` sorted by the first of each pair, here and by `slice::sort_by`: equal keys
    /// keep their order (the second of each pair is its place before the sort).
    fn check(keys: &[u32]) {
        let items: Vec<(u32, usize)> = keys.iter().copied().zip(0..).collect();
        let mut ours = items.clone();
        sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
        let mut std = items.clone();
        std.sort_by_key(|x| x.0);
        assert_eq!(ours, std, "{keys:?}");
        let mut by_key = items;
        sort_by_key(&mut by_key, |x| x.0);
        assert_eq!(by_key, std, "{keys:?} by key");
    }

    #[test]
    fn sorts_stably_as_the_standard_library() {
        check(&[]);
        check(&[1]);
        check(&[2, 1]);
        check(&[1, 2, 3]);
        check(&[3, 2, 1]);
        check(&[1, 1, 1]);
        check(&[2, 1, 2, 1, 0, 2]);
        // Long cycles and many equal keys, from a small generator.
        let mut x: u32 = 12345;
        for len in [10, 100, 1000] {
            let keys: Vec<u32> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) % 37
                })
                .collect();
            check(&keys);
        }
    }
}
