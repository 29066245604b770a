//! Room names. A socket joins its user's room and its world's room; state
//! subscribers join one room per (world, scope).

/// The room of one user: every tab of that user. Replies go here.
pub fn user(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The room of one world: every client at that table. Broadcasts go here.
pub fn world(world_id: &str) -> String {
    format!("world:{world_id}")
}

/// How every state room's name starts.
pub const STATE_PREFIX: &str = "state:";

/// The room of the subscribers of one state scope of one world.
pub fn state(world_id: &str, scope: &str) -> String {
    // Ids contain no control characters, so the separator is unambiguous.
    format!("{STATE_PREFIX}{world_id}\u{1f}{scope}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert_eq!(user("a"), "user:a");
        assert_eq!(world("b"), "world:b");
        assert_eq!(state("w", "c"), "state:w\u{1f}c");
    }
}
