//! Room names. A socket joins its user's room and its world's room; state
//! subscribers join one room per scope.

use crate::auth::Identity;

/// The room of one user: every tab of that user. Replies go here.
pub fn user(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The room of one world: every client at that table. Broadcasts go here.
pub fn world(world_id: &str) -> String {
    format!("world:{world_id}")
}

/// The room of the subscribers of one state scope.
pub fn state(scope: &str) -> String {
    format!("state:{scope}")
}

/// Whether `identity` may subscribe to `scope`: `user:<id>` scopes only for
/// that user, `world:<id>` scopes only for members of that world, any other
/// scope for everyone.
pub fn may_subscribe(identity: &Identity, scope: &str) -> bool {
    if let Some(user) = scope.strip_prefix("user:") {
        return user == identity.user_id;
    }
    if let Some(world) = scope.strip_prefix("world:") {
        return world == identity.world;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn scope_permissions() {
        let id = Identity {
            user_id: "u1".into(),
            role: Role::Player,
            world: "w1".into(),
            legacy: false,
        };
        assert!(may_subscribe(&id, "global"));
        assert!(may_subscribe(&id, "user:u1"));
        assert!(!may_subscribe(&id, "user:u2"));
        assert!(may_subscribe(&id, "world:w1"));
        assert!(!may_subscribe(&id, "world:w2"));
        assert_eq!(user("a"), "user:a");
        assert_eq!(world("b"), "world:b");
        assert_eq!(state("c"), "state:c");
    }
}
