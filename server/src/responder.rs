//! Where answers come from. [`Responder`] is the seam where a real AI backend
//! plugs in; [`DemoResponder`] is the deterministic default, clearly labelled
//! as a demo, so that the demo page and the tests need no AI service.

use crate::auth::Identity;
use frinny_agent::catalogue::{
    names, QueryPayload, RequestId, SuggestionAction, SuggestionPayload,
};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A request for the responder: a validated client event.
#[derive(Debug, Clone)]
pub struct Request {
    /// The client event (`query`, `level_up`, ...).
    pub event: String,
    /// Its payload, already validated against the catalogue.
    pub payload: Value,
    /// Who asked.
    pub identity: Identity,
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The text (Markdown allowed).
    pub content: String,
    /// Whether it came from a demo responder rather than an AI.
    pub demo: bool,
}

/// A responder failure. Its message reaches the client in `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderError(pub String);

impl fmt::Display for ResponderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResponderError {}

/// A boxed future returned by [`Responder::respond`].
pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, ResponderError>> + Send + 'a>>;

/// An event sent to the asking user after a successful answer (a
/// `suggestion` for the acting combatant, say).
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// A server-to-client event of the catalogue.
    pub event: &'static str,
    /// Its payload (it must fit the catalogue's type).
    pub payload: Value,
}

/// Produces answers to Frinny requests.
pub trait Responder: Send + Sync + 'static {
    /// Answers one request.
    fn respond(&self, request: Request) -> ReplyFuture<'_>;

    /// The events to send the user after a successful answer to `request`,
    /// in order, after the `*_response`. None by default.
    fn follow_ups(&self, request: &Request) -> Vec<FollowUp> {
        let _ = request;
        Vec::new()
    }

    /// A custom event declared `client_to_server` that a client sent, its
    /// payload checked against the declaration (see
    /// [`crate::custom_events`]). Nothing by default: the demo only
    /// acknowledges it. Called on the event's task: hand slow work off.
    fn custom_event(&self, request: &Request) {
        let _ = request;
    }
}

/// The deterministic demo responder: echoes queries and gives canned
/// Pathfinder 2e tips. A query whose content is exactly `/fail` fails, so the
/// error path can be seen and tested.
#[derive(Debug, Clone, Default)]
pub struct DemoResponder {
    /// Pause before answering (lets a typing indicator show).
    pub delay: Duration,
}

/// The banner every demo answer starts with.
pub const DEMO_LABEL: &str = "[demo responder, no AI connected]";

const TIPS: &[&str] = &[
    "Flanking makes a foe off-guard: a -2 circumstance penalty to its AC.",
    "Each turn you get three actions and one reaction; Strikes after the first take a multiple attack penalty.",
    "Raise a Shield is one action for +2 AC until your next turn; Shield Block needs it raised.",
    "Recall Knowledge takes one action and can reveal a creature's weaknesses.",
    "Stepping moves you 5 feet without triggering reactions like Reactive Strike.",
    "Hero Points let you reroll a check, or spend all of them to avoid dying.",
    "Demoralize (Intimidation) can make a foe frightened, lowering all its checks and DCs.",
    "A critical success is beating the DC by 10 or more; a natural 20 improves the result one step.",
];

fn tip_for(text: &str) -> &'static str {
    let lower = text.to_lowercase();
    let keyed: &[(&str, usize)] = &[
        ("flank", 0),
        ("action", 1),
        ("shield", 2),
        ("knowledge", 3),
        ("weakness", 3),
        ("step", 4),
        ("hero", 5),
        ("intimidat", 6),
        ("critical", 7),
        ("crit", 7),
    ];
    let index = keyed
        .iter()
        .find(|(word, _)| lower.contains(word))
        .map(|(_, i)| *i)
        .unwrap_or_else(|| {
            let sum = text
                .bytes()
                .fold(0usize, |acc, b| acc.wrapping_add(usize::from(b)));
            sum % TIPS.len()
        });
    TIPS.get(index).copied().unwrap_or("Have fun at the table!")
}

fn string_field<'a>(payload: &'a Value, name: &str) -> Option<&'a str> {
    payload.get(name).and_then(Value::as_str)
}

/// Who a game event is about, as a player would name them:
/// `combatant.name`, then `name`, then `actorId`.
fn acting_name(payload: &Value) -> Option<&str> {
    payload
        .get("combatant")
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .or_else(|| string_field(payload, "name"))
        .or_else(|| string_field(payload, "actorId"))
        .filter(|s| !s.trim().is_empty())
}

impl DemoResponder {
    /// The answer, without the delay.
    pub fn answer(&self, request: &Request) -> Result<Reply, ResponderError> {
        let actor = acting_name(&request.payload).unwrap_or("your character");
        let content = match request.event.as_str() {
            names::QUERY => {
                let query = QueryPayload::deserialize(&request.payload)
                    .map_err(|e| ResponderError(format!("unreadable query: {e}")))?;
                let text = query.content.as_str();
                if text.trim() == "/fail" {
                    return Err(ResponderError(
                        "the demo responder was asked to fail".to_owned(),
                    ));
                }
                let echoed: String = text.chars().take(500).collect();
                format!(
                    "{DEMO_LABEL} You said: \"{echoed}\". Pathfinder 2e tip: {}",
                    tip_for(text)
                )
            }
            names::CHARACTER_CREATION_START => format!(
                "{DEMO_LABEL} Building {actor}: pick ancestry, background and class first; \
                 each gives ability boosts, then assign four free boosts."
            ),
            names::LEVEL_UP => format!(
                "{DEMO_LABEL} {actor} levelled up: check for a new class feat, skill increase \
                 and, every 5 levels, four ability boosts."
            ),
            names::COMBAT_TURN => format!(
                "{DEMO_LABEL} {actor}'s turn: three actions and a reaction. {}",
                tip_for("action")
            ),
            names::COMBAT_START => format!(
                "{DEMO_LABEL} Roll initiative! Perception is the usual check; {}",
                tip_for("flank")
            ),
            names::FEEDBACK => format!("{DEMO_LABEL} Thanks for the feedback!"),
            other => {
                return Err(ResponderError(format!(
                    "the demo responder does not answer `{other}`"
                )))
            }
        };
        Ok(Reply {
            content,
            demo: true,
        })
    }
}

/// The actions the demo offers on a combat turn: (button label, value).
const TURN_ACTIONS: &[(&str, &str)] = &[
    ("Raise a Shield", "raise-shield"),
    ("Stride", "stride"),
    ("Recall Knowledge", "recall-knowledge"),
];

impl DemoResponder {
    /// The `suggestion` the demo sends after answering `combat_turn`: one
    /// for the acting combatant (`combatant.name`, `name` or `actorId` of
    /// the payload), with an id derived from the request's id.
    pub fn turn_suggestion(&self, request: &Request) -> Option<FollowUp> {
        if request.event != names::COMBAT_TURN {
            return None;
        }
        let p = &request.payload;
        let actor = string_field(p, "actorId");
        let name = acting_name(p).unwrap_or("The acting combatant");
        let name: String = name.chars().take(80).collect();
        let id = match p.get("request_id") {
            Some(Value::String(s)) => format!("turn-{s}"),
            Some(Value::Number(n)) => format!("turn-{n}"),
            _ => format!("turn-{}", crate::auth::now_millis()),
        };
        let suggestion = SuggestionPayload {
            id: RequestId::Text(id),
            text: format!(
                "{name}: raise your shield before you move in, then Strike; \
                 your third action is best spent on Recall Knowledge."
            ),
            actor_id: actor.map(str::to_owned),
            kind: Some("combat".to_owned()),
            actions: TURN_ACTIONS
                .iter()
                .map(|(label, value)| SuggestionAction {
                    label: (*label).to_owned(),
                    value: Value::from(*value),
                })
                .collect(),
        };
        Some(FollowUp {
            event: names::SUGGESTION,
            // Serializing plain strings and JSON values cannot fail.
            payload: serde_json::to_value(suggestion).ok()?,
        })
    }
}

impl Responder for DemoResponder {
    fn respond(&self, request: Request) -> ReplyFuture<'_> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            self.answer(&request)
        })
    }

    fn follow_ups(&self, request: &Request) -> Vec<FollowUp> {
        self.turn_suggestion(request).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use serde_json::json;

    fn req(event: &str, payload: Value) -> Request {
        Request {
            event: event.into(),
            payload,
            identity: Identity {
                user_id: "u".into(),
                role: Role::Player,
                world: "w".into(),
                expires_at: None,
            },
        }
    }

    #[test]
    fn deterministic_labelled_answers() {
        let d = DemoResponder::default();
        let a = d
            .answer(&req("query", json!({"content": "how does flanking work?"})))
            .unwrap();
        assert!(a.content.starts_with(DEMO_LABEL));
        assert!(a.content.contains("how does flanking work?"));
        assert!(a.content.contains("off-guard"));
        assert!(a.demo);
        assert_eq!(
            a,
            d.answer(&req("query", json!({"content": "how does flanking work?"})))
                .unwrap()
        );
        for e in [
            "character_creation_start",
            "level_up",
            "combat_turn",
            "combat_start",
            "feedback",
        ] {
            assert!(d
                .answer(&req(e, json!({})))
                .unwrap()
                .content
                .starts_with(DEMO_LABEL));
        }
        assert!(d
            .answer(&req("query", json!({"content": "/fail"})))
            .is_err());
        assert!(d.answer(&req("other", json!({}))).is_err());
    }

    #[test]
    fn a_combat_turn_gets_a_suggestion_for_the_acting_combatant() {
        let d = DemoResponder::default();
        let r = req(
            "combat_turn",
            json!({"request_id": "r7", "actorId": "a1", "combatant": {"name": "Valeros"}}),
        );
        let ups = d.follow_ups(&r);
        assert_eq!(ups.len(), 1);
        let up = &ups[0];
        assert_eq!(up.event, "suggestion");
        assert_eq!(
            frinny_agent::catalogue::validate(up.event, &up.payload),
            Ok(())
        );
        assert_eq!(up.payload["id"], "turn-r7");
        assert_eq!(up.payload["actorId"], "a1");
        assert!(up.payload["text"].as_str().unwrap().starts_with("Valeros:"));
        assert_eq!(up.payload["actions"].as_array().unwrap().len(), 3);
        // Without a name or actor, and with a numeric id.
        let up = &d.follow_ups(&req("combat_turn", json!({"request_id": 5})))[0];
        assert_eq!(up.payload["id"], "turn-5");
        assert!(up.payload.get("actorId").is_none());
        // The answer names the combatant too.
        let reply = d.answer(&r).unwrap();
        assert!(
            reply.content.contains("Valeros's turn"),
            "{}",
            reply.content
        );
        // Other requests get none.
        assert!(d
            .follow_ups(&req("query", json!({"content": "x"})))
            .is_empty());
    }
}
