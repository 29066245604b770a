//! Identity: HMAC-signed JWTs (HS256) carrying the user id, role, world and
//! expiry, checked when a socket joins the namespace.

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Game master: may broadcast to the world.
    Gm,
    /// Player.
    Player,
}

impl Role {
    /// Whether this role may relay events to the other clients.
    pub fn can_broadcast(self) -> bool {
        matches!(self, Role::Gm)
    }

    /// `gm` or `player`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Gm => "gm",
            Role::Player => "player",
        }
    }

    /// Parses `gm` or `player`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "gm" => Some(Role::Gm),
            "player" => Some(Role::Player),
            _ => None,
        }
    }
}

/// The claims of a socket token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The Foundry user id.
    pub sub: String,
    /// `gm` or `player`.
    pub role: Role,
    /// The Foundry world id.
    pub world: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Who a socket is, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user id (room `user:<id>`).
    pub user_id: String,
    /// The role.
    pub role: Role,
    /// The world id (room `world:<id>`).
    pub world: String,
    /// When its token expires (seconds since the epoch); `None` for the
    /// unauthenticated legacy `userId` query (dev only). Checked on every
    /// event, not only at connect: a socket must not outlive its token.
    pub expires_at: Option<u64>,
}

impl Identity {
    /// True once the token has expired at `now` (seconds since the epoch).
    pub fn expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|exp| now >= exp)
    }
}

/// Why a token was refused. The `Display` text goes to the client in
/// `CONNECT_ERROR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No token in the auth payload.
    Missing,
    /// The token has expired.
    Expired,
    /// The signature does not match (forged, or another secret).
    BadSignature,
    /// Not a token we can read, or claims out of range.
    Malformed(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str(
                "authentication required: pass {\"token\": \"<jwt>\"} as the Socket.IO auth payload",
            ),
            AuthError::Expired => f.write_str("token expired: get a new token and reconnect"),
            AuthError::BadSignature => {
                f.write_str("token signature is invalid (forged, or signed with another secret)")
            }
            AuthError::Malformed(why) => write!(f, "token is malformed: {why}"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Signs and checks tokens with one HMAC secret.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authenticator { .. }")
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Checks a user or world id: 1 to 128 characters, no control characters.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if id.chars().count() > 128 {
        return Err(format!("{what} is longer than 128 characters"));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(())
}

impl Authenticator {
    /// An authenticator for `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token for `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AuthError::Malformed(e.to_string()))
    }

    /// Signs a token for a user valid for `ttl_secs` from now.
    pub fn issue(
        &self,
        user_id: &str,
        role: Role,
        world: &str,
        ttl_secs: u64,
    ) -> Result<String, AuthError> {
        self.sign(&Claims {
            sub: user_id.to_owned(),
            role,
            world: world.to_owned(),
            exp: now_secs().saturating_add(ttl_secs),
        })
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                JwtErrorKind::ExpiredSignature => AuthError::Expired,
                JwtErrorKind::InvalidSignature => AuthError::BadSignature,
                JwtErrorKind::InvalidAlgorithm => {
                    AuthError::Malformed("only HS256 tokens are accepted".to_owned())
                }
                other => AuthError::Malformed(format!("{other:?}")),
            })?;
        let claims = data.claims;
        check_id("user id (sub)", &claims.sub).map_err(AuthError::Malformed)?;
        check_id("world", &claims.world).map_err(AuthError::Malformed)?;
        Ok(Identity {
            user_id: claims.sub,
            role: claims.role,
            world: claims.world,
            expires_at: Some(claims.exp),
        })
    }
}

/// Makes a random-enough secret for `--dev` when none is given (not for
/// production: it mixes the clock and the std hasher's random keys).
pub fn dev_secret() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..4u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_forged_and_expired() {
        let a = Authenticator::new(b"secret-one-secret-one");
        let t = a.issue("u1", Role::Gm, "w1", 60).unwrap();
        let id = a.verify(&t).unwrap();
        assert_eq!(id.user_id, "u1");
        assert_eq!(id.role, Role::Gm);
        assert_eq!(id.world, "w1");

        let b = Authenticator::new(b"secret-two-secret-two");
        assert_eq!(b.verify(&t), Err(AuthError::BadSignature));

        let old = a
            .sign(&Claims {
                sub: "u1".into(),
                role: Role::Player,
                world: "w".into(),
                exp: 1000,
            })
            .unwrap();
        assert_eq!(a.verify(&old), Err(AuthError::Expired));
        assert!(matches!(a.verify("nonsense"), Err(AuthError::Malformed(_))));
        assert_ne!(dev_secret(), dev_secret());
    }
}
