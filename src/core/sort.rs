//! One small sort for the few lists the core orders (request keys to
//! settle, scope names, dispatch times).
//!
//! Why not `slice::sort`: each element type gets its own copy of the
//! standard library's driftsort or ipnsort, 3–5 KB of wasm apiece, and the
//! client had five of them (~16 KB, 5% of the code). A heapsort is a few
//! hundred bytes per type, needs no allocation, and is O(n log n) on any
//! input. It is not stable; every list sorted with it has distinct keys
//! (or, for plain numbers, equal elements that cannot be told apart).

/// Sorts `v` ascending.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

/// Sorts `v` so that no element is `less` than one before it.
fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n, &less);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &less);
    }
}

/// Moves `v[root]` down the max-heap `v[..end]` until both children are
/// not greater. Every index is checked with `get` before `swap` uses it.
fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, less: &impl Fn(&T, &T) -> bool) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end {
            if let (Some(a), Some(b)) = (v.get(child), v.get(child + 1)) {
                if less(a, b) {
                    child += 1;
                }
            }
        }
        match (v.get(root), v.get(child)) {
            (Some(r), Some(c)) if less(r, c) => {
                v.swap(root, child);
                root = child;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Rng;

    #[test]
    fn sorts_like_the_standard_library() {
        let mut rng = Rng::new(7);
        for len in 0..200 {
            let mut v: Vec<u64> = (0..len).map(|_| rng.next_u64() % 50).collect();
            let mut expected = v.clone();
            expected.sort();
            sort(&mut v);
            assert_eq!(v, expected, "length {len}");
        }
    }

    #[test]
    fn sorts_by_an_order() {
        let mut rng = Rng::new(11);
        for len in 0..100 {
            let mut v: Vec<(u64, u64)> = (0..len).map(|i| (i, rng.next_u64() % 1000)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|p| (p.1, p.0));
            sort_by(&mut v, |a, b| (a.1, a.0) < (b.1, b.0));
            assert_eq!(v, expected, "length {len}");
        }
    }

    #[test]
    fn sorts_strings() {
        let mut v = vec!["b".to_owned(), "c".to_owned(), "a".to_owned()];
        sort(&mut v);
        assert_eq!(v, ["a", "b", "c"]);
    }
}
