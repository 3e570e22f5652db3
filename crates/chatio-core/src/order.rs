//! Sorting by a `u64` key — events and threads by their `order`, requests by when they were
//! issued — with one instance of the sort whatever the element type.
//!
//! `sort_by_key` is compiled again for every element type and key closure: the nine sorts of
//! the core were twelve copies of the standard library's stable sort in the browser build
//! (27 KiB of wasm together). Here only (key, position) pairs are sorted, by one small sort for all
//! callers, and the elements are then swapped into their places.

/// Sorts `items` by `key`, stably (equal keys keep their relative order).
pub(crate) fn sort_by_u64<T>(items: &mut [T], key: impl Fn(&T) -> u64) {
    if items.is_sorted_by_key(&key) {
        return; // the usual case: the server sends things in order
    }
    let keys: Vec<(u64, usize)> = items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    for (a, b) in swaps(keys) {
        items.swap(a, b);
    }
}

/// The swaps that put each element where its (key, position) pair sorts. Not generic: the one
/// sort for every caller.
#[inline(never)]
fn swaps(mut keys: Vec<(u64, usize)>) -> Vec<(usize, usize)> {
    heapsort(&mut keys);
    // `from[j]`: the position of the element that belongs at `j`. Each cycle of the
    // permutation is walked once: a swap brings the element due at `j` there, and the one it
    // displaced to the place the walk goes next.
    let from: Vec<usize> = keys.iter().map(|&(_, i)| i).collect();
    let mut done = vec![false; from.len()];
    let mut out = Vec::new();
    for start in 0..from.len() {
        let mut j = start;
        loop {
            match done.get_mut(j) {
                Some(d) if !*d => *d = true,
                _ => break,
            }
            let Some(&k) = from.get(j) else { break };
            if k == start {
                break;
            }
            out.push((j, k));
            j = k;
        }
    }
    out
}

/// Heapsort: O(n log n) whatever a server sends, in place, and a few hundred bytes of code
/// (the standard library's sorts are several KiB each). Not stable, which does not matter
/// here: the (key, position) pairs are all distinct, so equal keys keep their original order.
fn heapsort(v: &mut [(u64, usize)]) {
    fn sift_down(v: &mut [(u64, usize)], mut node: usize) {
        loop {
            let left = 2 * node + 1;
            let Some(&l) = v.get(left) else { return };
            let (child, c) = match v.get(left + 1) {
                Some(&r) if r > l => (left + 1, r),
                _ => (left, l),
            };
            if v.get(node).is_some_and(|&n| c <= n) {
                return;
            }
            v.swap(node, child);
            node = child;
        }
    }
    for i in (0..v.len() / 2).rev() {
        sift_down(v, i);
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        if let Some(rest) = v.get_mut(..end) {
            sift_down(rest, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn sorts_stably_by_key() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e'), (2, 'f')];
        sort_by_u64(&mut v, |p| p.0);
        assert_eq!(v, [(0, 'd'), (1, 'b'), (1, 'e'), (2, 'f'), (3, 'a'), (3, 'c')]);
        let mut sorted = vec![(1, 'x'), (2, 'y')];
        sort_by_u64(&mut sorted, |p| p.0);
        assert_eq!(sorted, [(1, 'x'), (2, 'y')]);
        let mut empty: Vec<(u64, char)> = Vec::new();
        sort_by_u64(&mut empty, |p| p.0);
        assert!(empty.is_empty());
    }

    #[test]
    fn agrees_with_the_standard_stable_sort() {
        // Deterministic spreads of keys, with many ties and with none, of every length up to
        // 70 and a long one.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for (len, spread) in (0..70).map(|n| (n, 7)).chain((0..70).map(|n| (n, u64::MAX))).chain([(2000, 37)]) {
            let mut v: Vec<(u64, usize)> = (0..len).map(|i| (next() % spread, i)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|p| p.0);
            sort_by_u64(&mut v, |p| p.0);
            assert_eq!(v, expected, "{len} elements");
        }
    }
}
