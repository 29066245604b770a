//! Several instances sharing one Redis (`--redis`, issue 12): events reach
//! every instance exactly once, state is one compare-and-set document with
//! pushes on every instance, per-user rate limits span instances, nginx
//! moves the clients of a dead instance, and a stalled Redis degrades the
//! server without losing anything. Each test starts its own redis-server
//! (and nginx) on free loopback ports and stops them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use frinny_server::auth::{Authenticator, Role};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_millis(400);
/// Every test is bounded well below the ~30 s the lead allows.
const TEST_LIMIT: Duration = Duration::from_secs(30);

async fn call(c: &mut SioClient, event: &str, data: Value) -> Value {
    let id = c.emit_with_ack(event, data).await;
    c.ack(id).await
}

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("the test finishes within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_posted_to_b_reaches_clients_on_a_once() {
    bounded(async {
        let c = TestCluster::start().await;
        // A token minted by B is accepted by A: one --jwt-secret.
        let token = c.b.token("p1", Role::Player, "w1");
        let mut on_a = SioClient::connect(c.a.addr, Some(json!({ "token": token })), "").await.unwrap();
        on_a.event("connection_established").await;
        let mut on_b = c.b.client("p2", Role::Player, "w1").await;
        let mut elsewhere = c.a.client("p3", Role::Player, "w2").await;

        let body = json!({"event": "notification", "world": "w1",
            "payload": {"level": "info", "title": "Table", "message": "hello table"}})
        .to_string();
        let r = http(c.b.addr, "POST", "/broadcast", Some(ADMIN), Some(&body)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for client in [&mut on_a, &mut on_b] {
            let got = client.events_named("notification", QUIET).await;
            assert_eq!(got.len(), 1, "exactly once: {got:?}");
            assert_eq!(got[0]["message"], "hello table");
        }
        assert!(elsewhere.try_event("notification", QUIET).await.is_none(), "another world");

        // To everyone: both worlds, both instances, once each.
        let body = json!({"event": "notification",
            "payload": {"level": "info", "title": "All", "message": "everyone"}})
        .to_string();
        assert_eq!(http(c.b.addr, "POST", "/broadcast", Some(ADMIN), Some(&body)).await.status, 200);
        for client in [&mut on_a, &mut on_b, &mut elsewhere] {
            assert_eq!(client.events_named("notification", QUIET).await.len(), 1);
        }

        // A GM's `broadcast` event on A reaches the world on B.
        let mut gm = c.a.client("g", Role::Gm, "w1").await;
        let ack = call(&mut gm, "broadcast",
            json!({"event": "notification", "payload": {"level": "info", "title": "GM", "message": "roll"}})).await;
        assert_eq!(ack["ok"], true, "{ack}");
        assert_eq!(on_b.events_named("notification", QUIET).await.len(), 1);
        assert_eq!(on_a.events_named("notification", QUIET).await.len(), 1);
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notify_posted_to_b_reaches_only_that_user_on_a() {
    bounded(async {
        let c = TestCluster::start().await;
        let mut target = c.a.client("u1", Role::Player, "w1").await;
        let mut same_instance = c.a.client("u2", Role::Player, "w1").await;
        let mut other_instance = c.b.client("u3", Role::Player, "w1").await;
        let body = json!({"userId": "u1", "level": "warning", "title": "Hi", "message": "for u1"})
            .to_string();
        let r = http(c.b.addr, "POST", "/notify", Some(ADMIN), Some(&body)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let got = target.events_named("notification", QUIET).await;
        assert_eq!(got.len(), 1, "exactly once: {got:?}");
        assert_eq!(
            (got[0]["message"].as_str(), got[0]["from"].as_str()),
            (Some("for u1"), Some("server"))
        );
        assert!(same_instance
            .try_event("notification", QUIET)
            .await
            .is_none());
        assert!(other_instance
            .try_event("notification", QUIET)
            .await
            .is_none());
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_reaches_the_users_tabs_on_both_instances() {
    bounded(async {
        let c = TestCluster::start().await;
        let mut tab_a = c.a.client("u1", Role::Player, "w1").await;
        let mut tab_b = c.b.client("u1", Role::Player, "w1").await;
        let mut someone_else = c.b.client("u2", Role::Player, "w1").await;
        tab_a
            .emit(
                "query",
                json!({"content": "What does Shield Block do?", "request_id": "r-1",
                "conversation_history": [], "is_public_chat": false}),
            )
            .await;
        for tab in [&mut tab_a, &mut tab_b] {
            let replies = tab
                .events_named("query_response", Duration::from_millis(800))
                .await;
            assert_eq!(replies.len(), 1, "exactly once per tab: {replies:?}");
            assert_eq!(replies[0]["request_id"], "r-1");
            tab.backlog_clear();
        }
        assert!(someone_else
            .try_event("query_response", QUIET)
            .await
            .is_none());
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_update_on_a_is_pushed_to_subscribers_on_both_with_the_same_versions() {
    bounded(async {
        let c = TestCluster::start().await;
        let mut gm = c.a.client("g", Role::Gm, "w1").await;
        let mut sub_b = c.b.client("p1", Role::Player, "w1").await;
        let snap_a = call(&mut gm, "state:subscribe", json!({"scope": "world"})).await;
        let snap_b = call(&mut sub_b, "state:subscribe", json!({"scope": "world"})).await;
        assert_eq!(snap_b["version"], 0);
        assert_eq!(snap_a["epoch"], snap_b["epoch"], "one epoch for the world on every instance");
        let epoch = snap_b["epoch"].clone();

        for v in 0..3u64 {
            let ack = call(&mut gm, "state:update",
                json!({"scope": "world", "base": v, "patch": {"round": v + 1}, "id": format!("g-{v}")})).await;
            assert_eq!(ack, json!({"scope": "world", "base": v, "version": v + 1}));
        }
        let expected: Vec<Value> = (0..3u64)
            .map(|v| json!({"scope": "world", "base": v, "version": v + 1, "patch": {"round": v + 1}}))
            .collect();
        assert_eq!(sub_b.events_named("state:patch", QUIET).await, expected, "in order, once each");
        assert_eq!(gm.events_named("state:patch", QUIET).await, expected, "the writer's instance too");

        // A re-sent update is recognised across instances, not applied twice.
        let mut gm_b = c.b.client("g", Role::Gm, "w1").await;
        let again = call(&mut gm_b, "state:update",
            json!({"scope": "world", "base": 1, "patch": {"round": 2}, "id": "g-1"})).await;
        assert_eq!(again, json!({"scope": "world", "base": 1, "version": 2, "duplicate": true}));
        assert!(sub_b.try_event("state:patch", QUIET).await.is_none());

        // Gap catch-up from the other instance.
        let mut late = c.b.client("p2", Role::Player, "w1").await;
        let caught = call(&mut late, "state:subscribe", json!({"scope": "world", "since": 1, "epoch": epoch})).await;
        assert_eq!(caught["version"], 3);
        assert_eq!(caught["patches"], json!([
            {"base": 1, "version": 2, "patch": {"round": 2}},
            {"base": 2, "version": 3, "patch": {"round": 3}},
        ]));
        let snap = call(&mut late, "state:subscribe", json!({"scope": "world"})).await;
        assert_eq!((snap["version"].as_u64(), &snap["doc"]), (Some(3), &json!({"round": 3})));

        // The HTTP path on B pushes to A's subscriber.
        let body = json!({"world": "w1", "scope": "world", "patch": {"weather": "rain"}}).to_string();
        let r = http(c.b.addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
        assert_eq!((r.status, r.json()["version"].as_u64()), (200, Some(4)), "{}", r.body);
        assert_eq!(gm.event("state:patch").await["version"], 4);
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_compare_and_set_from_both_instances_one_wins_per_version() {
    bounded(async {
        let c = TestCluster::start().await;
        let mut gm_a = c.a.client("ga", Role::Gm, "w1").await;
        let mut gm_b = c.b.client("gb", Role::Gm, "w1").await;
        let mut watch_a = c.a.client("pa", Role::Player, "w1").await;
        let mut watch_b = c.b.client("pb", Role::Player, "w1").await;
        for w in [&mut watch_a, &mut watch_b] {
            call(w, "state:subscribe", json!({"scope": "combat:c1"})).await;
        }
        const ROUNDS: u64 = 12;
        let mut winners = Vec::new();
        for base in 0..ROUNDS {
            let ia = gm_a
                .emit_with_ack(
                    "state:update",
                    json!({"scope": "combat:c1", "base": base, "patch": {"by": "a", "n": base}}),
                )
                .await;
            let ib = gm_b
                .emit_with_ack(
                    "state:update",
                    json!({"scope": "combat:c1", "base": base, "patch": {"by": "b", "n": base}}),
                )
                .await;
            let (ra, rb) = (gm_a.ack(ia).await, gm_b.ack(ib).await);
            let won = |r: &Value| r.get("code").is_none() && r["version"] == base + 1;
            let lost = |r: &Value| r["code"] == "CONFLICT" && r["version"] == base + 1;
            assert!(
                (won(&ra) && lost(&rb)) || (lost(&ra) && won(&rb)),
                "exactly one wins version {}: a={ra} b={rb}",
                base + 1
            );
            let winner = if won(&ra) { "a" } else { "b" };
            let loser_doc = if won(&ra) { &rb["doc"] } else { &ra["doc"] };
            assert_eq!(
                loser_doc,
                &json!({"by": winner, "n": base}),
                "the loser gets the winner's document"
            );
            winners.push(winner);
        }
        for w in [&mut watch_a, &mut watch_b] {
            let pushes = w
                .events_named("state:patch", Duration::from_millis(600))
                .await;
            let versions: Vec<u64> = pushes
                .iter()
                .map(|p| p["version"].as_u64().unwrap())
                .collect();
            assert_eq!(
                versions,
                (1..=ROUNDS).collect::<Vec<_>>(),
                "each version once, in order"
            );
            let by: Vec<&str> = pushes
                .iter()
                .map(|p| p["patch"]["by"].as_str().unwrap())
                .collect();
            assert_eq!(by, winners, "the winners' patches");
        }
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_rate_limit_holds_across_instances() {
    bounded(async {
        let c = TestCluster::start_with(|cfg| {
            cfg.rate_per_user = 1;
            cfg.burst_per_user = 3;
        })
        .await;
        let mut on_a = c.a.client("u1", Role::Player, "w1").await;
        let mut on_b = c.b.client("u1", Role::Player, "w1").await;
        let mut other = c.b.client("u2", Role::Player, "w1").await;
        let sub = || json!({"scope": "world"});
        let mut codes = Vec::new();
        for which in ["a", "a", "b", "b"] {
            let client = if which == "a" { &mut on_a } else { &mut on_b };
            let r = call(client, "state:subscribe", sub()).await;
            codes.push(r["code"].as_str().unwrap_or("ok").to_owned());
        }
        // Per instance, each would have allowed its two; shared, the fourth
        // event of the user is over the burst of 3.
        assert_eq!(codes, ["ok", "ok", "ok", "RATE_LIMITED"]);
        assert_eq!(
            call(&mut other, "state:subscribe", sub()).await["version"],
            0,
            "another user's bucket"
        );
        c.stop().await;
    })
    .await;
}

async fn health(addr: std::net::SocketAddr) -> Value {
    http(addr, "GET", "/healthz", None, None).await.json()
}

async fn wait_health(addr: std::net::SocketAddr, status: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let h = health(addr).await;
        if h["status"] == status {
            return h;
        }
        assert!(
            start.elapsed() < within,
            "/healthz never said {status}: {h}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_fails_writes_clearly_keeps_local_events_and_recovers() {
    bounded(async {
        let c = TestCluster::start_with(|cfg| cfg.redis_timeout_ms = 1000).await;
        let mut gm = c.a.client("g", Role::Gm, "w1").await;
        let mut player = c.a.client("p1", Role::Player, "w1").await;
        call(&mut gm, "state:subscribe", json!({"scope": "world"})).await;
        let ack = call(
            &mut gm,
            "state:update",
            json!({"scope": "world", "base": 0, "patch": {"kept": true}, "id": "w-1"}),
        )
        .await;
        assert_eq!(ack["version"], 1, "{ack}");
        let h = health(c.a.addr).await;
        assert_eq!(
            (h["status"].as_str(), h["redis"]["status"].as_str()),
            (Some("ok"), Some("up")),
            "{h}"
        );

        c.redis.proc.signal("STOP");
        let started = Instant::now();
        let refused = call(
            &mut gm,
            "state:update",
            json!({"scope": "world", "base": 1, "patch": {"lost": true}, "id": "w-2"}),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(refused["code"], "UNAVAILABLE", "{refused}");
        assert!(
            took < Duration::from_secs(4),
            "failed within a few seconds, not {took:?}"
        );
        let h = wait_health(c.a.addr, "degraded", Duration::from_secs(5)).await;
        assert_eq!(h["redis"]["status"], "down", "{h}");
        let r = http(
            c.a.addr,
            "POST",
            "/state/update",
            Some(ADMIN),
            Some(&json!({"world": "w1", "scope": "world", "patch": {"x": 1}}).to_string()),
        )
        .await;
        assert_eq!(
            (r.status, r.json()["code"].as_str()),
            (503, Some("UNAVAILABLE"))
        );

        // Events to this instance's sockets still flow.
        let body = json!({"userId": "p1", "level": "info", "title": "t", "message": "still here"})
            .to_string();
        let sent = Instant::now();
        assert_eq!(
            http(c.a.addr, "POST", "/notify", Some(ADMIN), Some(&body))
                .await
                .status,
            200
        );
        assert_eq!(player.event("notification").await["message"], "still here");
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "no wait on the dead link"
        );
        let metrics = http(c.a.addr, "GET", "/metrics", None, None).await.body;
        assert!(metrics.contains("frinny_redis_up 0"), "{metrics}");

        c.redis.proc.signal("CONT");
        wait_health(c.a.addr, "ok", Duration::from_secs(10)).await;
        // The refused write was not applied, even late: base 1 is current.
        let ack = call(
            &mut gm,
            "state:update",
            json!({"scope": "world", "base": 1, "patch": {"again": true}, "id": "w-3"}),
        )
        .await;
        assert_eq!(ack, json!({"scope": "world", "base": 1, "version": 2}));
        let snap = call(&mut player, "state:subscribe", json!({"scope": "world"})).await;
        assert_eq!(
            snap["doc"],
            json!({"kept": true, "again": true}),
            "acknowledged writes kept, refused ones absent"
        );
        // And events cross instances again.
        let mut on_b = c.b.client("p1", Role::Player, "w1").await;
        assert_eq!(
            http(c.a.addr, "POST", "/notify", Some(ADMIN), Some(&body))
                .await
                .status,
            200
        );
        assert_eq!(on_b.event("notification").await["message"], "still here");
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_the_clients_of_a_killed_instance_reconnect_to_the_other_and_catch_up() {
    bounded(async {
        let redis = RedisProcess::start();
        let mut instances = [
            ServerProcess::start(&redis.url()),
            ServerProcess::start(&redis.url()),
        ];
        let nginx = NginxProcess::start(&[instances[0].addr, instances[1].addr]);
        let auth = Authenticator::new(b"test-secret-test-secret-test-secret");
        let token = auth.issue("p1", Role::Player, "w1", 600).unwrap();

        let mut client = SioClient::connect(nginx.addr, Some(json!({ "token": token })), "")
            .await
            .unwrap();
        client.event("connection_established").await;
        let snap = call(&mut client, "state:subscribe", json!({"scope": "world"})).await;
        let epoch = snap["epoch"].clone();
        let write = |addr, n: u64| async move {
            let body = json!({"world": "w1", "scope": "world", "patch": {"n": n}}).to_string();
            let r = http(addr, "POST", "/state/update", Some(ADMIN), Some(&body)).await;
            assert_eq!(r.status, 200, "{}", r.body);
        };
        write(nginx.addr, 1).await;
        write(nginx.addr, 2).await;
        let seen: Vec<u64> = client
            .events_named("state:patch", QUIET)
            .await
            .iter()
            .map(|p| p["version"].as_u64().unwrap())
            .collect();
        assert_eq!(seen, [1, 2]);

        // Which instance holds the client? Kill that one, for real.
        let mut on = None;
        for (i, s) in instances.iter().enumerate() {
            if health(s.addr).await["connections"] == 1 {
                on = Some(i);
            }
        }
        let dead = on.expect("the client is on one instance");
        let alive = 1 - dead;
        instances[dead].proc.kill();
        assert!(
            matches!(
                client.next(Duration::from_secs(3)).await,
                Some(Incoming::Disconnected)
            ),
            "the link broke"
        );
        // Writes go on through the survivor while the client is away.
        write(instances[alive].addr, 3).await;
        write(instances[alive].addr, 4).await;

        // The client reconnects through nginx, lands on the survivor and
        // catches up from its version without a gap.
        let token = auth.issue("p1", Role::Player, "w1", 600).unwrap();
        let mut back = SioClient::connect(nginx.addr, Some(json!({ "token": token })), "")
            .await
            .unwrap();
        back.event("connection_established").await;
        assert_eq!(health(instances[alive].addr).await["connections"], 1);
        let caught = call(
            &mut back,
            "state:subscribe",
            json!({"scope": "world", "since": 2, "epoch": epoch}),
        )
        .await;
        assert_eq!(caught["version"], 4, "{caught}");
        assert_eq!(
            caught["patches"],
            json!([
                {"base": 2, "version": 3, "patch": {"n": 3}},
                {"base": 3, "version": 4, "patch": {"n": 4}},
            ])
        );
        write(nginx.addr, 5).await;
        assert_eq!(back.event("state:patch").await["version"], 5);
        drop(nginx);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_never_came_is_filled_in_from_the_history_in_order() {
    bounded(async {
        // `push: false` (a --dev aid) applies a patch without publishing it:
        // exactly what a lost pub/sub message looks like to the instances.
        let c = TestCluster::start_with(|cfg| cfg.dev = true).await;
        let mut sub_b = c.b.client("p1", Role::Player, "w1").await;
        call(&mut sub_b, "state:subscribe", json!({"scope": "world"})).await;
        let write = |patch: Value, push: bool| {
            json!({"world": "w1", "scope": "world", "patch": patch, "push": push}).to_string()
        };
        for (n, push) in [(1, true), (2, false), (3, true)] {
            let r = http(
                c.a.addr,
                "POST",
                "/state/update",
                Some(ADMIN),
                Some(&write(json!({"n": n}), push)),
            )
            .await;
            assert_eq!(
                (r.status, r.json()["version"].as_u64()),
                (200, Some(n)),
                "{}",
                r.body
            );
        }
        let pushes = sub_b.events_named("state:patch", QUIET).await;
        let got: Vec<(u64, u64, Value)> = pushes
            .iter()
            .map(|p| {
                (
                    p["base"].as_u64().unwrap(),
                    p["version"].as_u64().unwrap(),
                    p["patch"].clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, 1, json!({"n": 1})),
                (1, 2, json!({"n": 2})),
                (2, 3, json!({"n": 3}))
            ]
        );
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_restart_everything_resumes_without_restarting_the_instances() {
    bounded(async {
        let mut c = TestCluster::start_with(|cfg| cfg.redis_timeout_ms = 1000).await;
        let mut on_a = c.a.client("u1", Role::Player, "w1").await;
        let mut gm_b = c.b.client("g", Role::Gm, "w1").await;
        call(&mut on_a, "state:subscribe", json!({"scope": "world"})).await;
        let before = call(
            &mut gm_b,
            "state:update",
            json!({"scope": "world", "base": 0, "patch": {"a": 1}}),
        )
        .await;
        assert_eq!(before["version"], 1);
        on_a.event("state:patch").await;

        // Killed, and back on the same port with nothing in it.
        let port = c.redis.port;
        c.redis.proc.kill();
        wait_health(c.a.addr, "degraded", Duration::from_secs(5)).await;
        let refused = call(
            &mut gm_b,
            "state:update",
            json!({"scope": "world", "base": 1, "patch": {"b": 1}}),
        )
        .await;
        assert_eq!(refused["code"], "UNAVAILABLE", "{refused}");
        c.redis = RedisProcess::start_on(port);
        wait_health(c.a.addr, "ok", Duration::from_secs(10)).await;
        wait_health(c.b.addr, "ok", Duration::from_secs(10)).await;

        // Events cross instances again: the adapter's channels were resubscribed.
        let body =
            json!({"userId": "u1", "level": "info", "title": "t", "message": "back"}).to_string();
        let start = Instant::now();
        loop {
            assert_eq!(
                http(c.b.addr, "POST", "/notify", Some(ADMIN), Some(&body))
                    .await
                    .status,
                200
            );
            if on_a
                .try_event("notification", Duration::from_millis(300))
                .await
                .is_some()
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "events never crossed instances again"
            );
        }
        // State too: Redis lost the world, so versions restart under a new
        // epoch, and the state channel was resubscribed.
        let ack = call(
            &mut gm_b,
            "state:update",
            json!({"scope": "world", "base": 0, "patch": {"c": 1}}),
        )
        .await;
        assert_eq!(ack["version"], 1, "{ack}");
        let push = on_a.event("state:patch").await;
        assert_eq!(
            (push["base"].as_u64(), push["version"].as_u64()),
            (Some(0), Some(1))
        );
        let snap = call(
            &mut on_a,
            "state:subscribe",
            json!({"scope": "world", "since": 1, "epoch": "not-the-new-one"}),
        )
        .await;
        assert_eq!(
            snap["doc"],
            json!({"c": 1}),
            "another epoch gets a snapshot"
        );
        c.stop().await;
    })
    .await;
}

/// One HTTP/1.1 request from the loopback address `src` (nginx hashes the
/// client address); the response body.
async fn http_from(
    src: std::net::Ipv4Addr,
    to: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((src, 0).into()).unwrap();
    let mut stream = tokio::time::timeout(WAIT, socket.connect(to))
        .await
        .unwrap()
        .unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_long_polling_sessions_stay_on_the_instance_that_opened_them() {
    bounded(async {
        let c = TestCluster::start().await;
        let nginx = NginxProcess::start(&[c.a.addr, c.b.addr]);
        // Sixteen clients from sixteen loopback addresses: spread over both
        // instances, and each session's requests must all reach its own (a
        // request on the other instance gets "Session ID unknown").
        for i in 2..18u8 {
            let src = std::net::Ipv4Addr::new(127, 0, 0, i);
            let base = "/socket.io/?EIO=4&transport=polling";
            let (status, open) = http_from(src, nginx.addr, "GET", base, "").await;
            assert_eq!(status, 200, "{open}");
            let open: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
            let sid = open["sid"].as_str().unwrap();
            let path = format!("{base}&sid={sid}");
            let token = c.a.token(&format!("poll{i}"), Role::Player, "w1");
            let (status, ok) = http_from(
                src,
                nginx.addr,
                "POST",
                &path,
                &format!("40{}", json!({ "token": token })),
            )
            .await;
            assert_eq!((status, ok.as_str()), (200, "ok"), "client {i}");
            // Poll (answering pings) until the join and the greeting came.
            let mut seen = Vec::new();
            for _ in 0..6 {
                let (status, got) = http_from(src, nginx.addr, "GET", &path, "").await;
                assert_eq!(status, 200, "client {i}: {got}");
                for packet in got.split('\u{1e}') {
                    if packet == "2" {
                        let (status, _) = http_from(src, nginx.addr, "POST", &path, "3").await;
                        assert_eq!(status, 200, "client {i}: pong");
                    }
                    seen.push(packet.to_owned());
                }
                if seen.iter().any(|p| p.contains("connection_established")) {
                    break;
                }
            }
            assert!(
                seen.iter().any(|p| p.starts_with("40{")),
                "client {i} joined: {seen:?}"
            );
            assert!(
                seen.iter().any(|p| p.contains("connection_established")),
                "client {i}: {seen:?}"
            );
        }
        let on_a = health(c.a.addr).await["connections"].as_i64().unwrap();
        let on_b = health(c.b.addr).await["connections"].as_i64().unwrap();
        assert_eq!(on_a + on_b, 16);
        assert!(
            on_a > 0 && on_b > 0,
            "the clients spread over both instances: {on_a} + {on_b}"
        );
        drop(nginx);
        c.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_redis_does_not_answer_refuses_to_start_with_a_clear_error() {
    bounded(async {
        let mut config = frinny_server::Config::for_tests(false);
        config.redis = Some(format!("redis://127.0.0.1:{}", free_port()));
        config.redis_timeout_ms = 500;
        let started = Instant::now();
        let err = frinny_server::start(config, None)
            .await
            .expect_err("no Redis, no start");
        let text = err.to_string();
        assert!(
            text.starts_with("--redis: ") && text.contains("127.0.0.1"),
            "{text}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "bounded: {:?}",
            started.elapsed()
        );

        let mut config = frinny_server::Config::for_tests(false);
        config.redis = Some("http://user:secret@example:1".into());
        let text = frinny_server::start(config, None)
            .await
            .expect_err("not a redis URL")
            .to_string();
        assert!(
            text.contains("redis://") && !text.contains("secret"),
            "{text}"
        );
    })
    .await;
}
