//! The page's shared Engine.IO links, socket.io-client's Manager cache:
//! managers for the same endpoint and different namespaces multiplex over
//! one connection. The link belongs to a [`SharedLink`], not to any
//! manager: its own driver runs a core client in the link role (transport,
//! heartbeat, upgrade), and each manager on it is a guest (its client in
//! the guest role: its namespace, requests, subscriptions, auth, state sync
//! and metrics). The link is opened when a guest first wants it, closed
//! when none does, and forgotten with its last guest, so closing any one
//! manager never takes the link from the others.
//!
//! What may share: the endpoint is the WebSocket URL (scheme, host, port,
//! path, query) plus the options that change the connection itself
//! (`parser`, `transports`, `upgrade`, `withCredentials`, `extraHeaders`):
//! the link decodes every namespace's packets with one parser, so managers
//! with different parsers cannot share it.
//! Managers whose endpoints differ get separate links. Reconnection is
//! each guest's: after a loss every guest backs off on its own schedule
//! and the first to try reopens the link for all; the link's attempt
//! (its connect timeout and fallback to polling) follows the options of
//! the manager that made the link. Not shared: the plain-JSON protocol
//! (no namespaces), `forceNew: true` (or `multiplex: false`), and a second
//! manager for a namespace already on the link (two managers with separate
//! state cannot be one Socket.IO session): those get connections of their
//! own.

use super::driver::Driver;
use super::hub::EventHub;
use super::input::{Feed, Input};
use super::link::{LinkHost, LinkWatcher};
use super::polling::HttpOptions;
use crate::core::{ClientError, Config, Frame, Priority, Protocol, Role, Transport};
use crate::protocol::socket_io;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

thread_local! {
    /// The page's links by endpoint.
    static LINKS: RefCell<HashMap<String, Rc<SharedLink>>> = RefCell::new(HashMap::new());
}

/// One guest of a link.
struct Guest {
    id: u64,
    namespace: String,
    feed: Feed,
    /// Wants the link (its core asked to attach and has not detached).
    attached: bool,
}

/// One Engine.IO link and the managers multiplexed over it.
pub(crate) struct SharedLink {
    key: String,
    link: RefCell<Option<Rc<Driver>>>,
    guests: RefCell<Vec<Guest>>,
    up: Cell<bool>,
    next_id: Cell<u64>,
    /// The guest whose hub the link's driver uses (the root namespace's
    /// manager that made the link): its inspector taps the link itself.
    lender: Cell<Option<u64>>,
}

/// The endpoint `cfg` and `http` connect to, as the key of its link.
fn endpoint(cfg: &Config, http: &HttpOptions) -> String {
    let transports: Vec<&str> = cfg.transports.iter().map(|t| t.as_str()).collect();
    let headers: Vec<String> = http
        .extra_headers
        .iter()
        .map(|(k, v)| format!("{}={}", k.to_ascii_lowercase(), v))
        .collect();
    format!(
        "{}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        cfg.websocket_url(),
        cfg.parser,
        transports.join(","),
        cfg.upgrade,
        http.with_credentials,
        headers.join("&")
    )
}

/// A driver for a new manager: a guest on the page's link for its endpoint
/// when it may share one (see the module docs), else one with a link of
/// its own.
pub(crate) fn driver_for(
    mut cfg: Config,
    auth: Option<js_sys::Function>,
    http: HttpOptions,
    seed: u64,
    force_new: bool,
) -> Rc<Driver> {
    if force_new || cfg.protocol != Protocol::SocketIo {
        return Driver::new(cfg, auth, http, seed);
    }
    let key = endpoint(&cfg, &http);
    let existing = LINKS.with(|links| links.borrow().get(&key).cloned());
    if let Some(link) = &existing {
        if link.has_namespace(&cfg.namespace) {
            return Driver::new(cfg, auth, http, seed);
        }
    }
    let link_cfg = {
        let mut c = cfg.clone();
        c.role = Role::Link;
        c.namespace = "/".to_owned();
        c.auth = None;
        c.auth_per_attempt = false;
        // Guests reconnect, each with its own backoff; the link lives
        // while one of them wants it.
        c.reconnection = false;
        c
    };
    cfg.role = Role::Guest;
    // The root namespace's manager that makes the link lends it its hub:
    // the link's fast path and inspector tap are then that manager's.
    let lends = existing.is_none() && cfg.namespace == "/";
    let guest = Driver::new(cfg, auth, http.clone(), seed);
    let link = existing.unwrap_or_else(|| {
        let link = Rc::new_cyclic(|this: &Weak<SharedLink>| {
            let watcher: Weak<dyn LinkWatcher> = this.clone();
            let hub: Option<EventHub> = lends.then(|| guest.hub.clone());
            let driver = Driver::new_link(link_cfg, http, seed.rotate_left(17), hub, watcher);
            SharedLink {
                key: key.clone(),
                link: RefCell::new(Some(driver)),
                guests: RefCell::new(Vec::new()),
                up: Cell::new(false),
                next_id: Cell::new(0),
                lender: Cell::new(None),
            }
        });
        LINKS.with(|links| links.borrow_mut().insert(key, link.clone()));
        link
    });
    let id = link.next_id.get().wrapping_add(1);
    link.next_id.set(id);
    if lends {
        link.lender.set(Some(id));
    }
    let namespace = guest.agent().client().config().namespace.clone();
    link.guests.borrow_mut().push(Guest {
        id,
        namespace,
        feed: guest.feed(),
        attached: false,
    });
    guest.set_host(link, id);
    guest
}

impl SharedLink {
    fn has_namespace(&self, namespace: &str) -> bool {
        self.guests
            .borrow()
            .iter()
            .any(|g| g.namespace == namespace)
    }

    fn driver(&self) -> Option<Rc<Driver>> {
        self.link.borrow().clone()
    }

    /// The feeds of the attached guests (no borrow is held while they run).
    fn attached_feeds(&self) -> Vec<Feed> {
        self.guests
            .borrow()
            .iter()
            .filter(|g| g.attached)
            .map(|g| g.feed.clone())
            .collect()
    }
}

impl LinkHost for SharedLink {
    fn attach(&self, guest: u64) {
        let feed = {
            let mut guests = self.guests.borrow_mut();
            let Some(g) = guests.iter_mut().find(|g| g.id == guest) else {
                return;
            };
            g.attached = true;
            g.feed.clone()
        };
        if self.up.get() {
            return feed(Input::LinkOpened);
        }
        if let Some(d) = self.driver() {
            // Already under way: the guest hears when it is up.
            let idle = matches!(d.agent().client().state(), crate::core::State::Disconnected);
            if idle {
                d.call(|agent, now| agent.connect(now));
            }
        }
    }

    fn detach(&self, guest: u64) {
        let any_left = {
            let mut guests = self.guests.borrow_mut();
            if let Some(g) = guests.iter_mut().find(|g| g.id == guest) {
                g.attached = false;
            }
            guests.iter().any(|g| g.attached)
        };
        if !any_left {
            if let Some(d) = self.driver() {
                d.call(|agent, now| agent.disconnect(now));
            }
        }
    }

    fn carry(&self, priority: Priority, frame: Frame, attachments: Vec<Vec<u8>>) {
        if let Some(d) = self.driver() {
            d.call(|agent, _| agent.carry(priority, frame, attachments));
        }
    }

    fn buffered_amount(&self) -> Option<u64> {
        self.driver().and_then(|d| d.buffered_amount())
    }

    fn transport(&self) -> Option<Transport> {
        self.driver().and_then(|d| d.transport())
    }

    fn link_metrics(&self) -> (u64, Option<u64>) {
        self.driver().map_or((0, None), |d| d.link_metrics())
    }

    fn tapped_for(&self, guest: u64) -> bool {
        self.lender.get() == Some(guest)
    }

    fn leave(&self, guest: u64) {
        self.detach(guest);
        let empty = {
            let mut guests = self.guests.borrow_mut();
            guests.retain(|g| g.id != guest);
            guests.is_empty()
        };
        if empty {
            LINKS.with(|links| {
                let mut links = links.borrow_mut();
                if links
                    .get(&self.key)
                    .is_some_and(|l| std::ptr::eq(Rc::as_ptr(l), self))
                {
                    links.remove(&self.key);
                }
            });
            let driver = self.link.borrow_mut().take();
            if let Some(d) = driver {
                d.shutdown(true);
            }
        }
    }
}

impl LinkWatcher for SharedLink {
    fn link_changed(&self, up: bool, reason: &str) {
        self.up.set(up);
        for feed in self.attached_feeds() {
            feed(if up {
                Input::LinkOpened
            } else {
                Input::LinkClosed {
                    reason: reason.to_owned(),
                }
            });
        }
    }

    fn routed(&self, packet: socket_io::Packet<'static>) {
        let feed = self
            .guests
            .borrow()
            .iter()
            .find(|g| g.attached && g.namespace == packet.nsp())
            .map(|g| g.feed.clone());
        // A namespace no manager of this page joined: nothing to deliver.
        if let Some(feed) = feed {
            feed(Input::LinkPacket(packet));
        }
    }

    fn link_error(&self, error: ClientError) {
        let feeds: Vec<Feed> = self
            .guests
            .borrow()
            .iter()
            .map(|g| g.feed.clone())
            .collect();
        for feed in feeds {
            feed(Input::LinkError(error.clone()));
        }
    }
}
