//! Records in parts, as a snapshot stores them.

/// `items` in consecutive parts of at most `per_part` (at least one), each collected as it is
/// read: a snapshot's writer copies one part at a time instead of every record first.
pub(crate) fn in_parts<T>(
    mut items: impl Iterator<Item = T>,
    per_part: usize,
) -> impl Iterator<Item = Vec<T>> {
    let per_part = per_part.max(1);
    std::iter::from_fn(move || {
        let part: Vec<T> = items.by_ref().take(per_part).collect();
        (!part.is_empty()).then_some(part)
    })
}

#[cfg(test)]
mod tests {
    use super::in_parts;

    #[test]
    fn parts_hold_every_item_in_order_and_at_most_the_size_given() {
        let parts: Vec<Vec<u32>> = in_parts(0..7, 3).collect();
        assert_eq!(parts, [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
        assert_eq!(in_parts(0..4, 0).count(), 4);
        assert_eq!(in_parts(0..0, 3).count(), 0);
    }
}
