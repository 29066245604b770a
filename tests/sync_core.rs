//! The sans-IO sync engine ([`SyncStore`]) natively: the patch rules (in
//! order, old and duplicate ignored, gaps asked for and healed), optimistic
//! updates, acks, conflicts and their resolver, refusals, reconnects, epochs;
//! and a property: N stores against a model server, with pushes dropped,
//! duplicated and reordered and links lost, all converge to the server's
//! document and no acknowledged update is lost.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

use frinny_agent::core::{
    Change, PatchOutcome, SyncCounters, SyncError, SyncOutput, SyncStore, UpdateId, UpdateOutcome,
    RESUBMIT_PAUSE_MAX_MS, RESUBMIT_PAUSE_MS, UNAVAILABLE_RESENDS,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

fn drain(store: &mut SyncStore) -> Vec<SyncOutput> {
    std::iter::from_fn(|| store.poll_output()).collect()
}

/// A store connected and synced to `scope` at `version` with `doc`.
fn synced(scope: &str, version: u64, doc: Value) -> SyncStore {
    let mut s = SyncStore::new("t");
    s.on_connect();
    s.subscribe(scope);
    s.on_subscribe_reply(
        scope,
        &json!({"scope": scope, "version": version, "doc": doc, "epoch": "e1"}),
    );
    drain(&mut s);
    s
}

fn sent_update(out: &[SyncOutput]) -> Option<(UpdateId, u64, Value, String)> {
    out.iter().find_map(|o| match o {
        SyncOutput::Update {
            id,
            base,
            patch,
            wire_id,
            ..
        } => Some((*id, *base, patch.clone(), wire_id.clone())),
        _ => None,
    })
}

fn subscribes(out: &[SyncOutput]) -> Vec<Option<u64>> {
    out.iter()
        .filter_map(|o| match o {
            SyncOutput::Subscribe { since, .. } => Some(*since),
            _ => None,
        })
        .collect()
}

fn settled(out: &[SyncOutput]) -> Vec<(UpdateId, Result<u64, String>)> {
    out.iter()
        .filter_map(|o| match o {
            SyncOutput::Settled { id, result, .. } => {
                Some((*id, result.clone().map_err(|e| e.code)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn subscribes_when_connected_and_adopts_the_snapshot() {
    let mut s = SyncStore::new("t");
    s.subscribe("world");
    assert!(
        drain(&mut s).is_empty(),
        "nothing goes out before the link is up"
    );
    assert_eq!(s.doc("world"), None);
    s.on_connect();
    let out = drain(&mut s);
    assert_eq!(
        out,
        vec![SyncOutput::Subscribe {
            scope: "world".into(),
            since: None,
            epoch: None
        }]
    );
    assert_eq!(
        out[0].frame(),
        Some(("state:subscribe", json!({"scope": "world"})))
    );
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 4, "doc": {"a": 1}, "epoch": "e1"}),
    );
    assert_eq!(
        drain(&mut s),
        vec![
            SyncOutput::Changed {
                scope: "world".into(),
                change: Change::Snapshot { version: 4 }
            },
            SyncOutput::Synced {
                scope: "world".into(),
                version: 4
            },
        ]
    );
    assert_eq!(s.doc("world"), Some(&json!({"a": 1})));
    assert_eq!(s.version("world"), Some(4));
    // Subscribing again to a synced scope answers at once.
    s.subscribe("world");
    assert_eq!(
        drain(&mut s),
        vec![SyncOutput::Synced {
            scope: "world".into(),
            version: 4
        }]
    );
}

#[test]
fn patches_apply_in_order_old_ones_are_ignored_and_gaps_heal() {
    let mut s = synced("world", 1, json!({"a": 1}));
    assert_eq!(
        s.on_patch("world", 1, 2, &json!({"b": 2})),
        PatchOutcome::Applied
    );
    assert_eq!(
        drain(&mut s),
        vec![SyncOutput::Changed {
            scope: "world".into(),
            change: Change::Patch {
                version: 2,
                patch: json!({"b": 2})
            }
        }]
    );
    assert_eq!(
        s.on_patch("world", 1, 2, &json!({"b": 2})),
        PatchOutcome::Ignored
    );
    assert_eq!(
        s.on_patch("world", 0, 1, &json!({"a": 9})),
        PatchOutcome::Ignored
    );
    assert!(drain(&mut s).is_empty());

    // 2→3 and 3→4 are lost; 4→5 and 5→6 arrive out of order.
    assert_eq!(
        s.on_patch("world", 5, 6, &json!({"f": 6})),
        PatchOutcome::Gap { since: 2 }
    );
    assert_eq!(
        s.on_patch("world", 4, 5, &json!({"e": 5})),
        PatchOutcome::Gap { since: 2 }
    );
    let out = drain(&mut s);
    assert_eq!(
        subscribes(&out),
        vec![Some(2)],
        "one ask for the gap: {out:?}"
    );
    assert_eq!(
        out[0].frame(),
        Some((
            "state:subscribe",
            json!({"scope": "world", "since": 2, "epoch": "e1"})
        ))
    );
    assert_eq!(s.version("world"), Some(2));
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 4, "epoch": "e1", "patches": [
            {"base": 2, "version": 3, "patch": {"c": 3}},
            {"base": 3, "version": 4, "patch": {"a": null}},
        ]}),
    );
    assert_eq!(
        s.version("world"),
        Some(6),
        "the kept patches follow the missed ones"
    );
    assert_eq!(
        s.doc("world"),
        Some(&json!({"b": 2, "c": 3, "e": 5, "f": 6}))
    );
    let out = drain(&mut s);
    assert!(subscribes(&out).is_empty(), "{out:?}");
    assert!(out.contains(&SyncOutput::Synced {
        scope: "world".into(),
        version: 6
    }));
}

#[test]
fn a_snapshot_heals_a_gap_beyond_the_history() {
    let mut s = synced("world", 1, json!({"a": 1}));
    assert_eq!(
        s.on_patch("world", 7, 8, &json!({"h": 8})),
        PatchOutcome::Gap { since: 1 }
    );
    drain(&mut s);
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 7, "doc": {"g": 7}, "epoch": "e1"}),
    );
    assert_eq!(s.version("world"), Some(8));
    assert_eq!(s.doc("world"), Some(&json!({"g": 7, "h": 8})));
}

#[test]
fn patches_before_the_snapshot_wait_for_it() {
    let mut s = SyncStore::new("t");
    s.on_connect();
    s.subscribe("world");
    drain(&mut s);
    assert_eq!(
        s.on_patch("world", 3, 4, &json!({"x": 4})),
        PatchOutcome::Buffered
    );
    assert_eq!(
        s.on_patch("world", 2, 3, &json!({"x": 3})),
        PatchOutcome::Buffered
    );
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 3, "doc": {"x": 3}}),
    );
    assert_eq!(
        (s.version("world"), s.doc("world")),
        (Some(4), Some(&json!({"x": 4})))
    );
    assert_eq!(
        s.on_patch("elsewhere", 0, 1, &json!({})),
        PatchOutcome::Ignored
    );
}

#[test]
fn optimistic_updates_show_at_once_and_go_one_at_a_time() {
    let mut s = synced("user:u1", 5, json!({"hp": 10, "name": "Ezren"}));
    let a = s.update("user:u1", json!({"hp": 7}), true).unwrap();
    let out = drain(&mut s);
    assert_eq!(
        out[0],
        SyncOutput::Changed {
            scope: "user:u1".into(),
            change: Change::Optimistic {
                id: a,
                patch: json!({"hp": 7})
            }
        }
    );
    let (id, base, _, wire) = sent_update(&out).unwrap();
    assert_eq!((id, base), (a, 5));
    assert_eq!(
        out[1].frame(),
        Some((
            "state:update",
            json!({"scope": "user:u1", "base": 5, "patch": {"hp": 7}, "id": wire})
        ))
    );
    assert_eq!(s.doc("user:u1"), Some(&json!({"hp": 7, "name": "Ezren"})));
    assert_eq!(
        s.confirmed_doc("user:u1"),
        Some(&json!({"hp": 10, "name": "Ezren"}))
    );

    // A second edit shows at once but waits for the first to settle.
    let b = s.update("user:u1", json!({"name": null}), true).unwrap();
    assert!(sent_update(&drain(&mut s)).is_none());
    assert_eq!(s.doc("user:u1"), Some(&json!({"hp": 7})));
    assert_eq!(s.pending_updates("user:u1"), 2);

    // Our own push may come before the ack: applied once.
    assert_eq!(
        s.on_patch("user:u1", 5, 6, &json!({"hp": 7})),
        PatchOutcome::Applied
    );
    assert_eq!(
        s.on_update_reply(
            a,
            &json!({"scope": "user:u1", "base": 5, "version": 6}),
            |_| None
        ),
        UpdateOutcome::Acked { version: 6 }
    );
    let out = drain(&mut s);
    assert_eq!(settled(&out), vec![(a, Ok(6))]);
    let (id, base, patch, _) = sent_update(&out).unwrap();
    assert_eq!((id, base, patch), (b, 6, json!({"name": null})));
    // Late or duplicate replies are ignored.
    assert_eq!(
        s.on_update_reply(
            a,
            &json!({"scope": "user:u1", "base": 5, "version": 6}),
            |_| None
        ),
        UpdateOutcome::Unknown
    );
    assert_eq!(
        s.on_update_reply(
            b,
            &json!({"scope": "user:u1", "base": 6, "version": 7}),
            |_| None
        ),
        UpdateOutcome::Acked { version: 7 }
    );
    assert_eq!(s.confirmed_doc("user:u1"), Some(&json!({"hp": 7})));
    assert_eq!(s.version("user:u1"), Some(7));
    assert_eq!(s.pending_updates("user:u1"), 0);
}

#[test]
fn a_pessimistic_update_shows_only_once_confirmed() {
    let mut s = synced("world", 0, json!({}));
    let a = s.update("world", json!({"x": 1}), false).unwrap();
    assert_eq!(s.doc("world"), Some(&json!({})));
    drain(&mut s);
    s.on_update_reply(
        a,
        &json!({"scope": "world", "base": 0, "version": 1}),
        |_| None,
    );
    assert_eq!(s.doc("world"), Some(&json!({"x": 1})));
    let out = drain(&mut s);
    assert!(out.contains(&SyncOutput::Changed {
        scope: "world".into(),
        change: Change::Patch {
            version: 1,
            patch: json!({"x": 1})
        }
    }));
}

#[test]
fn updates_need_a_synced_scope_and_an_object_patch() {
    let mut s = SyncStore::new("t");
    assert_eq!(
        s.update("world", json!({"a": 1}), true).unwrap_err().code,
        "NOT_SYNCED"
    );
    s.subscribe("world");
    assert_eq!(
        s.update("world", json!({"a": 1}), true).unwrap_err().code,
        "NOT_SYNCED"
    );
    let mut s = synced("world", 0, json!({}));
    assert_eq!(
        s.update("world", json!([1]), true).unwrap_err().code,
        "INVALID_PAYLOAD"
    );
}

#[test]
fn a_conflict_rolls_back_adopts_the_server_and_resubmits_the_resolution() {
    let mut s = synced("world", 3, json!({"hp": 10}));
    let a = s.update("world", json!({"hp": 8}), true).unwrap();
    drain(&mut s);
    let conflict = json!({"code": "CONFLICT", "message": "stale", "scope": "world",
                          "version": 4, "doc": {"hp": 6, "shield": true}});
    let mut seen = None;
    let outcome = s.on_update_reply(a, &conflict, |c| {
        seen = Some(c.clone());
        Some(json!({"hp": 4}))
    });
    assert_eq!(outcome, UpdateOutcome::Resubmitted);
    let c = seen.unwrap();
    assert_eq!((c.id, c.version), (a, 4));
    assert_eq!(c.local, json!({"hp": 8}));
    assert_eq!(c.server, json!({"hp": 6, "shield": true}));
    assert_eq!(c.patch, json!({"hp": 8}));
    assert_eq!(
        s.confirmed_doc("world"),
        Some(&json!({"hp": 6, "shield": true}))
    );
    assert_eq!(
        s.doc("world"),
        Some(&json!({"hp": 4, "shield": true})),
        "the resolution is optimistic too"
    );
    let out = drain(&mut s);
    assert!(out.contains(&SyncOutput::Changed {
        scope: "world".into(),
        change: Change::Conflict { id: a, version: 4 }
    }));
    assert!(settled(&out).is_empty(), "the id follows its re-submission");
    assert_eq!(
        sent_update(&out),
        None,
        "not at once: after a jittered pause"
    );
    let at = s.poll_timeout().unwrap();
    assert!(
        (RESUBMIT_PAUSE_MS / 2..RESUBMIT_PAUSE_MS).contains(&at),
        "{at}"
    );
    s.on_timer(at - 1);
    assert_eq!(sent_update(&drain(&mut s)), None, "{at}");
    s.on_timer(at);
    assert_eq!(s.poll_timeout(), None);
    let out = drain(&mut s);
    let (id, base, patch, wire) = sent_update(&out).unwrap();
    assert_eq!((id, base, patch), (a, 4, json!({"hp": 4})));
    assert!(wire.ends_with("-1"), "a new wire id per attempt: {wire}");
    s.on_update_reply(
        a,
        &json!({"scope": "world", "base": 4, "version": 5}),
        |_| None,
    );
    assert_eq!(settled(&drain(&mut s)), vec![(a, Ok(5))]);
    assert_eq!(s.doc("world"), Some(&json!({"hp": 4, "shield": true})));
}

/// The pause before each re-submit is drawn in [ceiling / 2, ceiling), the
/// ceiling doubling per conflict of the same update up to the maximum; two
/// stores (two tabs: two prefixes) draw different pauses, so two writers in
/// lockstep fall out of it instead of one always winning.
#[test]
fn resubmits_wait_a_jittered_pause_that_grows_with_each_conflict() {
    let pauses = |prefix: &str| {
        let mut s = SyncStore::new(prefix);
        s.on_connect();
        s.subscribe("world");
        drain(&mut s);
        s.on_subscribe_reply("world", &json!({"scope": "world", "version": 1, "doc": {}}));
        let a = s.update("world", json!({"n": 1}), false).unwrap();
        drain(&mut s);
        let mut now = 1_000;
        s.set_time(now);
        let mut out = Vec::new();
        for attempt in 1..=8u32 {
            let version = 1 + u64::from(attempt);
            let conflict = json!({"code": "CONFLICT", "scope": "world", "version": version, "doc": {"v": version}});
            assert_eq!(
                s.on_update_reply(a, &conflict, |c| Some(c.patch.clone())),
                UpdateOutcome::Resubmitted
            );
            assert_eq!(
                sent_update(&drain(&mut s)),
                None,
                "attempt {attempt}: nothing at once"
            );
            let at = s.poll_timeout().unwrap();
            let ceiling = (RESUBMIT_PAUSE_MS << (attempt - 1)).min(RESUBMIT_PAUSE_MAX_MS);
            assert!(
                (ceiling / 2..ceiling).contains(&(at - now)),
                "attempt {attempt}: {} of {ceiling}",
                at - now
            );
            // A reconnect meanwhile does not cut the pause short.
            s.on_disconnect();
            s.on_connect();
            let (since, _) = match drain(&mut s).into_iter().find_map(|o| match o {
                SyncOutput::Subscribe { since, epoch, .. } => Some((since, epoch)),
                _ => None,
            }) {
                Some(x) => x,
                None => panic!("a catch-up after the reconnect"),
            };
            s.on_subscribe_reply(
                "world",
                &json!({"scope": "world", "version": since.unwrap(), "patches": []}),
            );
            assert_eq!(
                sent_update(&drain(&mut s)),
                None,
                "attempt {attempt}: still paused after the reconnect"
            );
            s.on_timer(at);
            let (id, base, _, _) = sent_update(&drain(&mut s)).unwrap();
            assert_eq!((id, base), (a, version));
            out.push(at - now);
            now = at + 5;
            s.set_time(now);
        }
        // The ninth conflict: the server wins, nothing more to wait for.
        let conflict = json!({"code": "CONFLICT", "scope": "world", "version": 10, "doc": {}});
        assert_eq!(
            s.on_update_reply(a, &conflict, |c| Some(c.patch.clone())),
            UpdateOutcome::ServerWins { version: 10 }
        );
        assert_eq!(s.poll_timeout(), None);
        out
    };
    let (tab1, tab2) = (pauses("tab-1"), pauses("tab-2"));
    assert_eq!(tab1, pauses("tab-1"), "a seeded draw repeats");
    assert_ne!(tab1, tab2, "two tabs draw differently");
    assert!(tab1.last() > tab1.first(), "the pause grows: {tab1:?}");
}

/// `UNAVAILABLE` may hide a write that was applied after all (Redis ran it
/// just before its deadline): the update goes again with the same base and
/// wire id after a growing pause, so the server acks such a one as a
/// duplicate; only after `UNAVAILABLE_RESENDS` re-sends does it settle with
/// the code (and roll back). The refusal may come as an `error` event
/// (`on_update_failed`) or in the ack (`on_update_reply`).
#[test]
fn an_unavailable_update_goes_again_with_its_id_after_a_pause_then_settles() {
    let mut s = synced("world", 3, json!({"hp": 10}));
    let mut now = 5_000;
    s.set_time(now);
    let a = s.update("world", json!({"hp": 8}), true).unwrap();
    let (_, base, _, wire) = sent_update(&drain(&mut s)).unwrap();
    let unavailable = || SyncError::new("UNAVAILABLE", "Redis did not answer in time");
    for n in 1..=UNAVAILABLE_RESENDS {
        if n % 2 == 1 {
            s.on_update_failed(a, unavailable());
        } else {
            let reply = json!({"code": "UNAVAILABLE", "message": "Redis did not answer in time"});
            assert_eq!(
                s.on_update_reply(a, &reply, |_| None),
                UpdateOutcome::Retrying
            );
        }
        let out = drain(&mut s);
        assert!(settled(&out).is_empty(), "re-send {n}: not settled yet");
        assert_eq!(sent_update(&out), None, "re-send {n}: after a pause");
        assert_eq!(s.doc("world"), Some(&json!({"hp": 8})), "the overlay stays");
        let at = s.poll_timeout().unwrap();
        let ceiling = (RESUBMIT_PAUSE_MS << (n + 1)).min(RESUBMIT_PAUSE_MAX_MS);
        assert!(
            (ceiling / 2..ceiling).contains(&(at - now)),
            "re-send {n}: {} of {ceiling}",
            at - now
        );
        s.on_timer(at);
        let (id, again, _, same) = sent_update(&drain(&mut s)).unwrap();
        assert_eq!(
            (id, again, &same),
            (a, base, &wire),
            "re-send {n}: same base and id"
        );
        now = at + 1_000;
        s.set_time(now);
    }
    s.on_update_failed(a, unavailable());
    assert_eq!(
        settled(&drain(&mut s)),
        vec![(a, Err("UNAVAILABLE".into()))]
    );
    assert_eq!(
        s.doc("world"),
        Some(&json!({"hp": 10})),
        "rolled back in the end"
    );
    assert_eq!(s.poll_timeout(), None);

    // Applied after all: the re-send is acked as a duplicate, and that is
    // the update's outcome.
    let mut s = synced("world", 3, json!({"hp": 10}));
    let a = s.update("world", json!({"hp": 8}), true).unwrap();
    drain(&mut s);
    s.on_update_failed(a, unavailable());
    s.on_timer(s.poll_timeout().unwrap());
    drain(&mut s);
    let dup = json!({"scope": "world", "base": 3, "version": 4, "duplicate": true});
    assert_eq!(
        s.on_update_reply(a, &dup, |_| None),
        UpdateOutcome::Acked { version: 4 }
    );
    assert_eq!(settled(&drain(&mut s)), vec![(a, Ok(4))]);
}

#[test]
fn without_a_resolution_the_server_wins() {
    let mut s = synced("world", 3, json!({"hp": 10}));
    let a = s.update("world", json!({"hp": 8}), true).unwrap();
    drain(&mut s);
    let conflict = json!({"code": "CONFLICT", "scope": "world", "version": 5, "doc": {"hp": 1}});
    assert_eq!(
        s.on_update_reply(a, &conflict, |_| None),
        UpdateOutcome::ServerWins { version: 5 }
    );
    assert_eq!(settled(&drain(&mut s)), vec![(a, Err("CONFLICT".into()))]);
    assert_eq!(
        (s.doc("world"), s.version("world")),
        (Some(&json!({"hp": 1})), Some(5))
    );
}

#[test]
fn a_refusal_rolls_back_and_settles_with_its_code() {
    let mut s = synced("world", 0, json!({"a": 1}));
    let a = s.update("world", json!({"a": 2}), true).unwrap();
    drain(&mut s);
    let reply =
        json!({"code": "FORBIDDEN", "message": "role `player` may not write scope `world`"});
    assert!(
        matches!(s.on_update_reply(a, &reply, |_| None), UpdateOutcome::Refused(e) if e.code == "FORBIDDEN")
    );
    let out = drain(&mut s);
    assert_eq!(settled(&out), vec![(a, Err("FORBIDDEN".into()))]);
    assert!(out.contains(&SyncOutput::Changed {
        scope: "world".into(),
        change: Change::Rollback { id: a }
    }));
    assert_eq!(s.doc("world"), Some(&json!({"a": 1})));

    // A server `error` event (the shell's request failed) does the same.
    let b = s.update("world", json!({"a": 3}), true).unwrap();
    drain(&mut s);
    s.on_update_failed(b, SyncError::new("SERVER_ERROR", "nope"));
    assert_eq!(
        settled(&drain(&mut s)),
        vec![(b, Err("SERVER_ERROR".into()))]
    );
    assert_eq!(s.doc("world"), Some(&json!({"a": 1})));
}

/// `metrics()`'s state-sync counters: a gap is counted once per patch that
/// arrives ahead, a resync per `state:subscribe` after the first answer
/// (the gap's and the reconnect's), a rollback per refused optimistic
/// update, a conflict per `CONFLICT` reply; the last conflict and the
/// pending updates stay readable for the devtools.
#[test]
fn counts_gaps_resyncs_rollbacks_and_conflicts() {
    let mut s = synced("world", 3, json!({"hp": 10}));
    assert_eq!(s.counters(), SyncCounters::default());

    s.set_time(1_000);
    assert_eq!(
        s.on_patch("world", 5, 6, &json!({"hp": 9})),
        PatchOutcome::Gap { since: 3 }
    );
    assert_eq!(subscribes(&drain(&mut s)), vec![Some(3)]);
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 6, "doc": {"hp": 9}, "epoch": "e1"}),
    );
    drain(&mut s);

    let a = s.update("world", json!({"hp": 8}), true).unwrap();
    let b = s.update("world", json!({"mp": 1}), false).unwrap();
    let pending: Vec<_> = s
        .pending("world")
        .map(|p| (p.id, p.patch.clone(), p.optimistic, p.in_flight))
        .collect();
    assert_eq!(
        pending,
        vec![
            (a, json!({"hp": 8}), true, true),
            (b, json!({"mp": 1}), false, false)
        ]
    );
    drain(&mut s);
    s.set_time(2_000);
    let conflict = json!({"code": "CONFLICT", "scope": "world", "version": 7, "doc": {"hp": 2}});
    s.on_update_reply(a, &conflict, |_| None);
    let last = s.last_conflict("world").unwrap();
    assert_eq!((last.id, last.version), (a, 7));
    assert_eq!(last.server, json!({"hp": 2}));
    drain(&mut s);

    // b (in flight now) is refused, but it was not optimistic: nothing to
    // roll back; c was, so its refusal rolls back.
    s.on_update_reply(b, &json!({"code": "FORBIDDEN"}), |_| None);
    drain(&mut s);
    let c = s.update("world", json!({"hp": 1}), true).unwrap();
    drain(&mut s);
    s.on_update_reply(c, &json!({"code": "FORBIDDEN"}), |_| None);
    drain(&mut s);

    s.on_disconnect();
    s.on_connect();
    assert_eq!(subscribes(&drain(&mut s)), vec![Some(7)]);
    assert_eq!(
        s.counters(),
        SyncCounters {
            gaps: 1,
            resyncs: 2,
            rollbacks: 1,
            conflicts: 1
        }
    );
}

#[test]
fn after_a_reconnect_scopes_resume_and_lost_acks_are_resent() {
    let mut s = synced("world", 2, json!({"a": 1}));
    s.subscribe("combat:c1");
    s.on_subscribe_reply(
        "combat:c1",
        &json!({"scope": "combat:c1", "version": 9, "doc": {}, "epoch": "e1"}),
    );
    let a = s.update("world", json!({"b": 2}), true).unwrap();
    let (_, base, _, wire) = sent_update(&drain(&mut s)).unwrap();
    s.on_disconnect();
    s.on_update_failed(a, SyncError::new("DISCONNECTED", "link lost"));
    let b = s.update("world", json!({"c": 3}), true).unwrap();
    assert!(
        sent_update(&drain(&mut s)).is_none(),
        "nothing is sent while down"
    );
    assert_eq!(s.doc("world"), Some(&json!({"a": 1, "b": 2, "c": 3})));

    s.on_connect();
    let out = drain(&mut s);
    let mut asks: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            SyncOutput::Subscribe {
                scope,
                since,
                epoch,
            } => Some((scope.clone(), *since, epoch.clone())),
            _ => None,
        })
        .collect();
    asks.sort();
    assert_eq!(
        asks,
        vec![
            ("combat:c1".into(), Some(9), Some("e1".into())),
            ("world".into(), Some(2), Some("e1".into())),
        ]
    );
    assert!(sent_update(&out).is_none(), "updates wait for the catch-up");
    // The lost update had landed: the catch-up brings it.
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 3, "epoch": "e1",
                "patches": [{"base": 2, "version": 3, "patch": {"b": 2}}]}),
    );
    let (id, base2, _, wire2) = sent_update(&drain(&mut s)).unwrap();
    assert_eq!(
        (id, base2, wire2.as_str()),
        (a, base, wire.as_str()),
        "re-sent as it was"
    );
    s.on_update_reply(
        a,
        &json!({"scope": "world", "base": 2, "version": 3, "duplicate": true}),
        |_| None,
    );
    let out = drain(&mut s);
    assert_eq!(settled(&out), vec![(a, Ok(3))]);
    let (id, base3, _, _) = sent_update(&out).unwrap();
    assert_eq!((id, base3), (b, 3));
}

#[test]
fn a_new_epoch_replaces_the_document() {
    let mut s = synced("world", 7, json!({"old": true}));
    s.on_disconnect();
    s.on_connect();
    drain(&mut s);
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 1, "doc": {"new": true}, "epoch": "e2"}),
    );
    assert_eq!(
        (s.version("world"), s.doc("world")),
        (Some(1), Some(&json!({"new": true})))
    );
    // A stale snapshot of the same epoch does not move it back.
    s.on_subscribe_reply(
        "world",
        &json!({"scope": "world", "version": 0, "doc": {}, "epoch": "e2"}),
    );
    assert_eq!(s.version("world"), Some(1));
}

#[test]
fn refused_subscriptions_and_unsubscribe_settle_everything() {
    let mut s = SyncStore::new("t");
    s.on_connect();
    s.subscribe("user:u2");
    drain(&mut s);
    s.on_subscribe_reply("user:u2", &json!({"code": "FORBIDDEN", "message": "no"}));
    assert_eq!(
        drain(&mut s),
        vec![SyncOutput::SubscribeFailed {
            scope: "user:u2".into(),
            error: SyncError::new("FORBIDDEN", "no")
        }]
    );
    assert!(!s.is_subscribed("user:u2"));

    let mut s = synced("world", 0, json!({}));
    let a = s.update("world", json!({"a": 1}), true).unwrap();
    let b = s.update("world", json!({"b": 1}), true).unwrap();
    drain(&mut s);
    s.unsubscribe("world");
    let out = drain(&mut s);
    assert_eq!(
        settled(&out),
        vec![
            (a, Err("UNSUBSCRIBED".into())),
            (b, Err("UNSUBSCRIBED".into()))
        ]
    );
    assert_eq!(
        out.last().and_then(SyncOutput::frame),
        Some(("state:unsubscribe", json!({"scope": "world"})))
    );
    assert_eq!(s.doc("world"), None);
    // Replies for a dropped scope are ignored.
    s.on_subscribe_reply("world", &json!({"scope": "world", "version": 1, "doc": {}}));
    assert_eq!(
        s.on_update_reply(
            a,
            &json!({"scope": "world", "base": 0, "version": 1}),
            |_| None
        ),
        UpdateOutcome::Unknown
    );
    assert!(drain(&mut s).is_empty());
}

#[test]
fn a_timed_out_subscribe_or_update_is_asked_again() {
    let mut s = SyncStore::new("t");
    s.on_connect();
    s.subscribe("world");
    drain(&mut s);
    s.on_subscribe_failed("world", SyncError::new("TIMEOUT", "slow"));
    assert_eq!(subscribes(&drain(&mut s)), vec![None]);
    s.on_subscribe_reply("world", &json!({"scope": "world", "version": 0, "doc": {}}));
    let a = s.update("world", json!({"a": 1}), true).unwrap();
    let first = sent_update(&drain(&mut s)).unwrap();
    s.on_update_failed(a, SyncError::new("TIMEOUT", "slow"));
    assert_eq!(
        sent_update(&drain(&mut s)),
        Some(first),
        "same base and wire id"
    );
    s.on_subscribe_failed("world", SyncError::new("SERVER_ERROR", "gone"));
    assert!(!s.is_subscribed("world"));
}

#[test]
fn malformed_input_never_panics() {
    let mut s = synced("world", 0, json!({}));
    for v in [
        json!(null),
        json!([]),
        json!({"scope": 1}),
        json!({"scope": "world", "version": "x"}),
        json!({"scope": "world", "base": 5, "version": 2, "patch": {}}),
    ] {
        let _ = s.on_patch_event(&v);
    }
    s.on_subscribe_reply("world", &json!({"scope": "world"}));
    assert!(
        !s.is_subscribed("world"),
        "an unreadable reply drops the scope"
    );
    let mut s = synced("world", 0, json!({}));
    let a = s.update("world", json!({"a": 1}), true).unwrap();
    drain(&mut s);
    assert!(matches!(
        s.on_update_reply(a, &json!([1]), |_| None),
        UpdateOutcome::Refused(_)
    ));
}

// ---------------------------------------------------------------------------
// The property: N clients against a model server.

const SCOPE: &str = "combat:c1";
const HISTORY: usize = 4;

#[derive(Debug, Clone)]
enum Req {
    Subscribe {
        since: Option<u64>,
        epoch: Option<String>,
    },
    Update {
        id: UpdateId,
        base: u64,
        patch: Value,
        wire_id: String,
    },
}

#[derive(Debug, Clone)]
enum Msg {
    Push {
        base: u64,
        version: u64,
        patch: Value,
    },
    SubscribeReply(Value),
    UpdateReply(UpdateId, Value),
}

struct Peer {
    store: SyncStore,
    prefix: String,
    outbound: VecDeque<Req>,
    inbound: Vec<Msg>,
    acked: Vec<(UpdateId, u64)>,
    settled: HashMap<UpdateId, usize>,
    made: Vec<UpdateId>,
}

impl Peer {
    fn pump(&mut self) {
        while let Some(o) = self.store.poll_output() {
            match o {
                SyncOutput::Subscribe { since, epoch, .. } => {
                    self.outbound.push_back(Req::Subscribe { since, epoch })
                }
                SyncOutput::Update {
                    id,
                    base,
                    patch,
                    wire_id,
                    ..
                } => self.outbound.push_back(Req::Update {
                    id,
                    base,
                    patch,
                    wire_id,
                }),
                SyncOutput::Settled { id, result, .. } => {
                    *self.settled.entry(id).or_default() += 1;
                    if let Ok(v) = result {
                        self.acked.push((id, v));
                    }
                }
                SyncOutput::SubscribeFailed { .. } => panic!("the model server refuses nothing"),
                _ => {}
            }
        }
    }

    fn deliver(&mut self, msg: Msg) {
        match msg {
            Msg::Push {
                base,
                version,
                patch,
            } => {
                self.store.on_patch(SCOPE, base, version, &patch);
            }
            Msg::SubscribeReply(r) => self.store.on_subscribe_reply(SCOPE, &r),
            Msg::UpdateReply(id, r) => {
                // Even ids re-submit their patch on a conflict, odd ones let the server win.
                self.store
                    .on_update_reply(id, &r, |c| (c.id.0 % 2 == 0).then(|| c.patch.clone()));
            }
        }
        self.pump();
    }

    fn reconnect(&mut self, server: &mut Model, me: usize) {
        self.outbound.clear();
        self.inbound.clear();
        server.subscribed[me] = false;
        self.store.on_disconnect();
        self.store.on_connect();
        self.pump();
    }
}

struct Model {
    version: u64,
    doc: Value,
    /// Every applied patch, by version - 1: (patch, origin).
    log: Vec<(Value, Option<String>)>,
    /// The bounded history: (base, version, patch, origin).
    history: VecDeque<(u64, u64, Value, Option<String>)>,
    subscribed: Vec<bool>,
    /// The document at each version.
    docs: Vec<Value>,
}

impl Model {
    fn apply(&mut self, patch: &Value, origin: Option<String>, peers: &mut [Peer]) -> (u64, u64) {
        let base = self.version;
        json_patch::merge(&mut self.doc, patch);
        self.version += 1;
        self.log.push((patch.clone(), origin.clone()));
        self.docs.push(self.doc.clone());
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history
            .push_back((base, self.version, patch.clone(), origin));
        for (i, p) in peers.iter_mut().enumerate() {
            if self.subscribed[i] {
                p.inbound.push(Msg::Push {
                    base,
                    version: self.version,
                    patch: patch.clone(),
                });
            }
        }
        (base, self.version)
    }

    fn handle(&mut self, me: usize, req: Req, peers: &mut [Peer]) {
        let reply = match req {
            Req::Subscribe { since, epoch } => {
                self.subscribed[me] = true;
                let oldest = self.history.front().map(|h| h.0);
                let patches = match since {
                    Some(s)
                        if epoch.as_deref().map_or(true, |e| e == "e1") && s <= self.version =>
                    {
                        if s == self.version {
                            Some(vec![])
                        } else if oldest.is_some_and(|o| s >= o) {
                            Some(
                                self.history
                                    .iter()
                                    .filter(|h| h.0 >= s)
                                    .map(|h| json!({"base": h.0, "version": h.1, "patch": h.2}))
                                    .collect::<Vec<_>>(),
                            )
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                let reply = match patches {
                    Some(p) => {
                        json!({"scope": SCOPE, "version": self.version, "patches": p, "epoch": "e1"})
                    }
                    None => {
                        json!({"scope": SCOPE, "version": self.version, "doc": self.doc, "epoch": "e1"})
                    }
                };
                Msg::SubscribeReply(reply)
            }
            Req::Update {
                id,
                base,
                patch,
                wire_id,
            } => {
                let dup = self
                    .history
                    .iter()
                    .find(|h| h.3.as_deref() == Some(wire_id.as_str()));
                let reply = if let Some(h) = dup {
                    json!({"scope": SCOPE, "base": h.0, "version": h.1, "duplicate": true})
                } else if base == self.version {
                    let (b, v) = self.apply(&patch, Some(wire_id), peers);
                    json!({"scope": SCOPE, "base": b, "version": v})
                } else {
                    json!({"code": "CONFLICT", "scope": SCOPE, "version": self.version, "doc": self.doc})
                };
                Msg::UpdateReply(id, reply)
            }
        };
        peers[me].inbound.push(reply);
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Client `c` sets key `k` to `v` (`None`: deletes it).
    Update {
        c: usize,
        k: u8,
        v: Option<u8>,
        optimistic: bool,
    },
    /// The server changes the doc itself (HTTP).
    ServerWrite { k: u8, v: u8 },
    /// The server handles client `c`'s next request.
    Process { c: usize },
    /// Client `c` receives message `pick` of its inbox (reordering), keeping
    /// a copy of a push when `dup`.
    Deliver { c: usize, pick: usize, dup: bool },
    /// A push to client `c` is lost.
    Drop { c: usize, pick: usize },
    /// Client `c`'s link drops and comes back.
    Reconnect { c: usize },
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..n, 0u8..4, proptest::option::weighted(0.8, 0u8..50), any::<bool>())
            .prop_map(|(c, k, v, optimistic)| Op::Update { c, k, v, optimistic }),
        1 => (0u8..4, 0u8..50).prop_map(|(k, v)| Op::ServerWrite { k, v }),
        5 => (0..n).prop_map(|c| Op::Process { c }),
        6 => (0..n, any::<usize>(), proptest::bool::weighted(0.15))
            .prop_map(|(c, pick, dup)| Op::Deliver { c, pick, dup }),
        1 => (0..n, any::<usize>()).prop_map(|(c, pick)| Op::Drop { c, pick }),
        1 => (0..n).prop_map(|c| Op::Reconnect { c }),
    ]
}

fn key(k: u8) -> String {
    format!("k{k}")
}

fn run(n: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut server = Model {
        version: 0,
        doc: json!({}),
        log: vec![],
        history: VecDeque::new(),
        subscribed: vec![false; n],
        docs: vec![json!({})],
    };
    let mut peers: Vec<Peer> = (0..n)
        .map(|i| {
            let prefix = format!("c{i}");
            let mut store = SyncStore::new(prefix.clone());
            store.subscribe(SCOPE);
            store.on_connect();
            let mut p = Peer {
                store,
                prefix,
                outbound: VecDeque::new(),
                inbound: vec![],
                acked: vec![],
                settled: HashMap::new(),
                made: vec![],
            };
            p.pump();
            p
        })
        .collect();

    let mut serial = 0u32;
    // Simulated time: 10 ms per step, so re-submit pauses end mid-run too.
    let mut now = 0u64;
    for op in ops {
        match op {
            Op::Update {
                c,
                k,
                v,
                optimistic,
            } => {
                // A unique marker too, so that a lost or misplaced patch shows.
                serial += 1;
                let patch = json!({ key(k): v, format!("m{serial}"): c });
                let p = &mut peers[c];
                if let Ok(id) = p.store.update(SCOPE, patch, optimistic) {
                    p.made.push(id);
                }
                p.pump();
            }
            Op::ServerWrite { k, v } => {
                serial += 1;
                server.apply(
                    &json!({ key(k): v, format!("m{serial}"): "server" }),
                    None,
                    &mut peers,
                );
            }
            Op::Process { c } => {
                if let Some(req) = peers[c].outbound.pop_front() {
                    server.handle(c, req, &mut peers);
                }
            }
            Op::Deliver { c, pick, dup } => {
                let p = &mut peers[c];
                if !p.inbound.is_empty() {
                    let i = pick % p.inbound.len();
                    let msg = p.inbound.remove(i);
                    if dup {
                        if let Msg::Push { .. } = msg {
                            p.inbound.push(msg.clone());
                        }
                    }
                    p.deliver(msg);
                }
            }
            Op::Drop { c, pick } => {
                let p = &mut peers[c];
                let pushes: Vec<usize> = (0..p.inbound.len())
                    .filter(|i| matches!(p.inbound[*i], Msg::Push { .. }))
                    .collect();
                if !pushes.is_empty() {
                    p.inbound.remove(pushes[pick % pushes.len()]);
                }
            }
            Op::Reconnect { c } => peers[c].reconnect(&mut server, c),
        }
        now += 10;
        for p in &mut peers {
            p.store.on_timer(now);
            p.pump();
        }
        // At every step, what a client holds as confirmed is exactly the
        // server's document at that version.
        for p in &peers {
            if let Some(v) = p.store.version(SCOPE) {
                prop_assert_eq!(
                    p.store.confirmed_doc(SCOPE),
                    server.docs.get(v as usize),
                    "{} at {}",
                    p.prefix,
                    v
                );
            }
        }
    }

    // Quiesce: every link comes back, then everything is delivered in order.
    for c in 0..n {
        peers[c].reconnect(&mut server, c);
    }
    let mut steps = 0;
    loop {
        let mut moved = false;
        for c in 0..n {
            while let Some(req) = peers[c].outbound.pop_front() {
                server.handle(c, req, &mut peers);
                moved = true;
            }
            while !peers[c].inbound.is_empty() {
                let msg = peers[c].inbound.remove(0);
                peers[c].deliver(msg);
                moved = true;
            }
        }
        steps += 1;
        prop_assert!(steps < 10_000, "no quiescence");
        if !moved {
            // Nothing in flight: let the earliest re-submit pause end.
            let Some(at) = peers.iter().filter_map(|p| p.store.poll_timeout()).min() else {
                break;
            };
            now = now.max(at);
            for p in &mut peers {
                p.store.on_timer(now);
                p.pump();
            }
        }
    }

    for p in &peers {
        prop_assert_eq!(
            p.store.version(SCOPE),
            Some(server.version),
            "{} version",
            p.prefix
        );
        prop_assert_eq!(p.store.doc(SCOPE), Some(&server.doc), "{} doc", p.prefix);
        prop_assert_eq!(p.store.confirmed_doc(SCOPE), Some(&server.doc));
        prop_assert_eq!(p.store.pending_updates(SCOPE), 0);
        for id in &p.made {
            prop_assert_eq!(
                p.settled.get(id).copied(),
                Some(1),
                "{} {:?} settles once",
                p.prefix,
                id
            );
        }
        // No acknowledged update is lost: the server applied it at that version.
        for (id, version) in &p.acked {
            let entry = server.log.get((*version - 1) as usize);
            let origin = entry.and_then(|e| e.1.clone()).unwrap_or_default();
            let want = format!("{}-{}-", p.prefix, id.0);
            prop_assert!(
                origin.starts_with(&want),
                "{:?} acked at {} but the log has {:?}",
                id,
                version,
                origin
            );
        }
    }
    // The server's doc is the fold of its log.
    let mut folded = json!({});
    for (patch, _) in &server.log {
        json_patch::merge(&mut folded, patch);
    }
    prop_assert_eq!(folded, server.doc);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn clients_converge_under_loss_duplication_reordering_and_reconnects(
        (n, ops) in (2usize..5).prop_flat_map(|n| (Just(n), proptest::collection::vec(op(n), 0..200)))
    ) {
        run(n, ops)?;
    }
}

#[test]
fn a_subscribe_lost_with_the_link_is_asked_again_on_reconnect_only() {
    let mut s = SyncStore::new("t");
    s.subscribe("world");
    s.on_connect();
    assert_eq!(subscribes(&drain(&mut s)), vec![None]);
    // The core settles the in-flight request DISCONNECTED before it says the
    // link went down: the store must neither drop the scope nor ask now.
    s.on_subscribe_failed("world", SyncError::new("DISCONNECTED", "link lost"));
    assert!(drain(&mut s).is_empty());
    assert!(s.is_subscribed("world"));
    s.on_disconnect();
    s.on_connect();
    assert_eq!(
        subscribes(&drain(&mut s)),
        vec![None],
        "asked once, after the reconnect"
    );
}
