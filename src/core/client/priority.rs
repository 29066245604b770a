//! How urgent an emit or a request is, and the queue that order makes:
//! what waits (for a link, for a congested socket to drain, for a polling
//! POST to return) leaves high first, then normal, then low, first in
//! first out within one priority.
//!
//! Three FIFO queues rather than one sorted queue: pushing and popping stay
//! O(1), the order within a priority cannot be disturbed by a sort, and
//! the oldest low item (the one a full buffer gives up first) is at hand.

use std::collections::VecDeque;

/// How urgent an emit or request is (`priority: 'high' | 'normal' |
/// 'low'` in JS). Only what waits is reordered: on a link that takes
/// everything at once, calls go out in call order whatever their priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Leaves before everything else that waits.
    High,
    /// What every call without a priority is.
    #[default]
    Normal,
    /// Leaves after everything else that waits, and is the first given up
    /// when the buffer is full and something more urgent comes.
    Low,
}

impl Priority {
    /// The priorities in the order their items leave.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Normal, Priority::Low];

    /// The name JS uses (`'high'`, `'normal'`, `'low'`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// The priority named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Priority> {
        match name {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// Items in three FIFO queues, one per [`Priority`].
#[derive(Debug)]
pub(super) struct Tiers<T> {
    high: VecDeque<T>,
    normal: VecDeque<T>,
    low: VecDeque<T>,
}

impl<T> Default for Tiers<T> {
    fn default() -> Self {
        Tiers {
            high: VecDeque::new(),
            normal: VecDeque::new(),
            low: VecDeque::new(),
        }
    }
}

impl<T> Tiers<T> {
    fn tier(&self, priority: Priority) -> &VecDeque<T> {
        match priority {
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }

    fn tier_mut(&mut self, priority: Priority) -> &mut VecDeque<T> {
        match priority {
            Priority::High => &mut self.high,
            Priority::Normal => &mut self.normal,
            Priority::Low => &mut self.low,
        }
    }

    /// Items in all three queues.
    pub(super) fn len(&self) -> usize {
        self.high.len() + self.normal.len() + self.low.len()
    }

    /// Items of `priority`.
    pub(super) fn len_of(&self, priority: Priority) -> usize {
        self.tier(priority).len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.high.is_empty() && self.normal.is_empty() && self.low.is_empty()
    }

    /// Adds `item` behind everything of its priority.
    pub(super) fn push_back(&mut self, priority: Priority, item: T) {
        self.tier_mut(priority).push_back(item);
    }

    /// Adds `item` before everything of its priority.
    pub(super) fn push_front(&mut self, priority: Priority, item: T) {
        self.tier_mut(priority).push_front(item);
    }

    /// The next item to leave, with its priority: the oldest of the most
    /// urgent priority.
    pub(super) fn pop_front(&mut self) -> Option<(Priority, T)> {
        Priority::ALL
            .into_iter()
            .find_map(|p| self.tier_mut(p).pop_front().map(|item| (p, item)))
    }

    /// The oldest item of `priority`, taken out.
    pub(super) fn pop_front_of(&mut self, priority: Priority) -> Option<T> {
        self.tier_mut(priority).pop_front()
    }

    /// Keeps only the items of `priority` that `keep` accepts.
    pub(super) fn retain_in(&mut self, priority: Priority, keep: impl FnMut(&T) -> bool) {
        self.tier_mut(priority).retain(keep);
    }

    /// Every item, in the order they would leave.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.high
            .iter()
            .chain(self.normal.iter())
            .chain(self.low.iter())
    }

    /// Takes every item out, in the order they leave.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = T> {
        let taken = std::mem::take(self);
        taken.high.into_iter().chain(taken.normal).chain(taken.low)
    }

    /// Drops everything.
    pub(super) fn clear(&mut self) {
        self.high.clear();
        self.normal.clear();
        self.low.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_leave_by_priority_then_in_order() {
        let mut t = Tiers::default();
        for (p, x) in [
            (Priority::Low, 1),
            (Priority::Normal, 2),
            (Priority::High, 3),
            (Priority::Low, 4),
            (Priority::High, 5),
        ] {
            t.push_back(p, x);
        }
        t.push_front(Priority::Normal, 0);
        assert_eq!(t.len(), 6);
        assert_eq!(t.len_of(Priority::Low), 2);
        assert_eq!(t.iter().copied().collect::<Vec<_>>(), [3, 5, 0, 2, 1, 4]);
        assert_eq!(t.pop_front_of(Priority::Low), Some(1));
        assert_eq!(t.pop_front(), Some((Priority::High, 3)));
        assert_eq!(t.drain().collect::<Vec<_>>(), [5, 0, 2, 4]);
        assert!(t.is_empty());
    }

    #[test]
    fn names_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_name(p.as_str()), Some(p));
        }
        assert_eq!(Priority::from_name("urgent"), None);
        assert_eq!(Priority::default(), Priority::Normal);
    }
}
