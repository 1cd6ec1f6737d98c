//! The five conflict strategies as scenes any transport can play: two devices edit the same
//! record offline and sync in both orders; the outcome is what the strategy says, and after a
//! final sync every device equals the server (a fresh device pulling everything).
//! `engine_conflicts.rs` plays them in process, `http_sync.rs` over loopback HTTP.
#![allow(dead_code)] // each test file uses its own share

/// Every scene below as a `<scene>::sqlite` and a `<scene>::postgres` test, each playing the
/// scene on the devices `$world(backend)` makes (a fresh server on that backend).
macro_rules! every_conflict_scene_on_both_backends {
    ($world:ident) => {
        every_conflict_scene_on_both_backends!(@scenes $world,
            lww_keeps_the_later_write_in_both_orders,
            lww_ties_go_to_the_server,
            lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock,
            server_wins_keeps_whatever_reached_the_server_first,
            client_wins_keeps_the_change_of_the_device_that_syncs_last,
            field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field,
            manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution,
            manual_resolution_by_choosing_a_side,
            a_push_answered_conflict_is_resolved_by_the_strategy,
        );
    };
    (@scenes $world:ident, $($scene:ident),* $(,)?) => {$(
        mod $scene {
            #[test]
            fn sqlite() {
                crate::conflict_scenes::$scene(|| super::$world(crate::backends::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                if let Some(backend) = crate::backends::Backend::postgres() {
                    crate::conflict_scenes::$scene(|| super::$world(backend));
                }
            }
        }
    )*};
}

use syncwright::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use syncwright::sync::transport::{Transport, TransportError};
use syncwright::sync::{Choice, FoundBy, Resolution};
use syncwright::{Record, SyncStatus, Uuid};

use crate::sync_app::*;

/// Where the devices of one scene sync: one server, and a new device of user `ana` on demand.
pub trait Devices {
    /// How a device reaches the server.
    type T: Transport;
    /// A new v2 device, empty until it syncs.
    fn device(&self) -> Client<Self::T>;
}

/// Which device syncs its offline edit first.
#[derive(Debug, Clone, Copy)]
enum First {
    A,
    B,
}

const BOTH_ORDERS: [First; 2] = [First::A, First::B];

/// Two devices holding the synced record `id`, created by A as `M::new("title", "body")`.
struct Scene<M, D: Devices> {
    devices: D,
    a: Client<D::T>,
    b: Client<D::T>,
    id: Uuid,
    _memo: std::marker::PhantomData<M>,
}

impl<M: Memo, D: Devices> Scene<M, D> {
    fn new(devices: D) -> Self {
        let (a, b) = (devices.device(), devices.device());
        let id = a.db.insert(&M::new("title", "body")).unwrap().id;
        a.sync();
        b.sync();
        Scene {
            devices,
            a,
            b,
            id,
            _memo: std::marker::PhantomData,
        }
    }

    /// A edits at +10 ms, B at +20 ms (B's change is the later one), both offline.
    fn edit(&self, a: M, b: M) {
        self.a.later(10);
        self.a.db.update(self.id, &a).unwrap();
        self.b.later(20);
        self.b.db.update(self.id, &b).unwrap();
    }

    /// Syncs the two devices in `first` order; returns the second device's report.
    fn sync_in(&self, first: First) -> syncwright::sync::SyncReport {
        let (one, two) = match first {
            First::A => (&self.a, &self.b),
            First::B => (&self.b, &self.a),
        };
        one.sync();
        two.sync()
    }

    fn record(&self, client: &Client<D::T>) -> Record<M> {
        client
            .db
            .get_including_deleted::<M>(self.id)
            .unwrap()
            .expect("the record is there")
    }

    /// After a final round, both devices and a fresh one (the server's state) hold the same
    /// record, synced, with nothing left in a queue; returns it.
    fn converged(&self) -> M {
        self.a.sync();
        self.b.sync();
        self.a.sync();
        let fresh = self.devices.device();
        fresh.sync();
        let server = self.record(&fresh);
        for (name, client) in [("A", &self.a), ("B", &self.b)] {
            let local = self.record(client);
            assert_eq!(
                local.data, server.data,
                "device {name} differs from the server"
            );
            assert_eq!(local.is_deleted, server.is_deleted);
            assert_eq!(local.sync_status, SyncStatus::Synced, "device {name}");
            assert!(
                client.db.queue().open_entries().unwrap().is_empty(),
                "device {name} still has queued changes"
            );
        }
        server.data
    }
}

pub fn lww_keeps_the_later_write_in_both_orders<D: Devices>(world: impl Fn() -> D) {
    for first in BOTH_ORDERS {
        let scene = Scene::<Project, D>::new(world());
        scene.edit(Project::new("by A", "body"), Project::new("by B", "body"));
        let report = scene.sync_in(first);
        let winner = scene.converged();
        assert_eq!(winner.title(), "by B", "{first:?} first: B wrote later");
        assert!(
            report.conflicts.len() <= 1,
            "{first:?}: one conflict at most: {report:?}"
        );
    }
}

pub fn lww_ties_go_to_the_server<D: Devices>(world: impl Fn() -> D) {
    for first in BOTH_ORDERS {
        let scene = Scene::<Project, D>::new(world());
        // Both edit at the same millisecond.
        scene.a.later(10);
        scene.b.later(10);
        scene
            .a
            .db
            .update(scene.id, &Project::new("by A", "body"))
            .unwrap();
        scene
            .b
            .db
            .update(scene.id, &Project::new("by B", "body"))
            .unwrap();
        scene.sync_in(first);
        let expected = match first {
            First::A => "by A",
            First::B => "by B",
        };
        assert_eq!(
            scene.converged().title(),
            expected,
            "{first:?} reached the server first"
        );
    }
}

pub fn lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock<D: Devices>(
    world: impl Fn() -> D,
) {
    let scene = Scene::<Project, D>::new(world());
    // A's clock runs far ahead: its edit is stamped an hour in the future.
    scene.a.later(3_600_000);
    scene
        .a
        .db
        .update(scene.id, &Project::new("by A", "body"))
        .unwrap();
    scene.a.sync();
    // B sees A's version, then edits it with its slow clock: cause before effect.
    scene.b.sync();
    scene.b.later(10);
    let edited = scene
        .b
        .db
        .update(scene.id, &Project::new("by B after A", "body"))
        .unwrap();
    assert!(edited.updated_at > scene.record(&scene.a).updated_at);
    assert_eq!(scene.converged().title(), "by B after A");
}

pub fn server_wins_keeps_whatever_reached_the_server_first<D: Devices>(world: impl Fn() -> D) {
    for first in BOTH_ORDERS {
        let scene = Scene::<MemoServer, D>::new(world());
        scene.edit(
            MemoServer::new("by A", "body"),
            MemoServer::new("by B", "body"),
        );
        let report = scene.sync_in(first);
        let expected = match first {
            First::A => "by A",
            First::B => "by B",
        };
        assert_eq!(report.conflicts.len(), 1, "{report:?}");
        assert_eq!(report.conflicts[0].resolution, Resolution::ServerKept);
        assert_eq!(scene.converged().title(), expected, "{first:?} first");
    }
}

pub fn client_wins_keeps_the_change_of_the_device_that_syncs_last<D: Devices>(
    world: impl Fn() -> D,
) {
    for first in BOTH_ORDERS {
        let scene = Scene::<MemoClient, D>::new(world());
        scene.edit(
            MemoClient::new("by A", "body"),
            MemoClient::new("by B", "body"),
        );
        let report = scene.sync_in(first);
        let expected = match first {
            First::A => "by B",
            First::B => "by A",
        };
        assert_eq!(report.conflicts.len(), 1, "{report:?}");
        assert_eq!(report.conflicts[0].resolution, Resolution::LocalResent);
        assert_eq!(scene.converged().title(), expected, "{first:?} first");
    }
}

pub fn field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field<D: Devices>(
    world: impl Fn() -> D,
) {
    for first in BOTH_ORDERS {
        let scene = Scene::<MemoField, D>::new(world());
        // A changes the title, B the body: both survive.
        scene.edit(
            MemoField::new("by A", "body"),
            MemoField::new("title", "by B"),
        );
        scene.sync_in(first);
        let merged = scene.converged();
        assert_eq!(
            (merged.title(), merged.body()),
            ("by A", "by B"),
            "{first:?} first"
        );

        // Both change the title; B's edit is the later one.
        scene.edit(MemoField::new("A2", "by B"), MemoField::new("B2", "by B"));
        scene.sync_in(first);
        assert_eq!(scene.converged().title(), "B2", "{first:?} first");
    }
}

pub fn manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution<D: Devices>(
    world: impl Fn() -> D,
) {
    for first in BOTH_ORDERS {
        let scene = Scene::<MemoManual, D>::new(world());
        scene.edit(
            MemoManual::new("by A", "body"),
            MemoManual::new("by B", "body"),
        );
        let report = scene.sync_in(first);
        let (second, mine, theirs) = match first {
            First::A => (&scene.b, "by B", "by A"),
            First::B => (&scene.a, "by A", "by B"),
        };
        assert_eq!(report.conflicts.len(), 1, "{report:?}");
        assert_eq!(report.conflicts[0].resolution, Resolution::Manual);
        assert_eq!(report.conflicts[0].found_by, FoundBy::Pull);
        let record = scene.record(second);
        assert_eq!(record.sync_status, SyncStatus::Conflict);
        assert_eq!(
            record.title(),
            mine,
            "the local version stays until resolved"
        );

        let conflicts = second.db.conflicts().unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].id, scene.id);
        assert_eq!(conflicts[0].local["title"], mine);
        assert_eq!(conflicts[0].server.fields["title"], theirs);
        assert_eq!(second.db.status().unwrap().conflicts, 1);

        // Syncing again leaves it waiting for the app.
        second.sync();
        assert_eq!(scene.record(second).sync_status, SyncStatus::Conflict);

        let mut merged = serde_json::Map::new();
        merged.insert("title".into(), format!("{mine} + {theirs}").into());
        second
            .db
            .resolve_conflict::<MemoManual>(scene.id, Choice::Merged(merged))
            .unwrap();
        assert!(second.db.conflicts().unwrap().is_empty());
        let resolved = scene.converged();
        assert_eq!(
            resolved.title(),
            format!("{mine} + {theirs}"),
            "{first:?} first"
        );

        let logged = logged_resolutions(second, scene.id);
        assert!(
            logged.iter().any(|r| r.starts_with("manual: waiting"))
                && logged.iter().any(|r| r == "manual: merged"),
            "the conflict and its resolution are in _sync_log: {logged:?}"
        );
    }
}

pub fn manual_resolution_by_choosing_a_side<D: Devices>(world: impl Fn() -> D) {
    for (choice, expected) in [(Choice::Local, "by B"), (Choice::Server, "by A")] {
        let scene = Scene::<MemoManual, D>::new(world());
        scene.edit(
            MemoManual::new("by A", "body"),
            MemoManual::new("by B", "body"),
        );
        scene.sync_in(First::A);
        scene
            .b
            .db
            .resolve_conflict::<MemoManual>(scene.id, choice.clone())
            .unwrap();
        assert_eq!(scene.converged().title(), expected, "{choice:?}");
    }
}

pub fn a_push_answered_conflict_is_resolved_by_the_strategy<D: Devices>(world: impl Fn() -> D) {
    // B pulls nothing new before pushing: its edit reaches the server on an old base.
    let scene = Scene::<MemoClient, D>::new(world());
    scene.edit(
        MemoClient::new("by A", "body"),
        MemoClient::new("by B", "body"),
    );
    scene.a.sync();
    let options = syncwright::sync::SyncOptions::new();
    // Push only: a transport that answers pulls with nothing new.
    let report = scene
        .b
        .sync_through(&PushOnly(&scene.b.transport), &options)
        .unwrap();
    assert_eq!(report.conflicts.len(), 1, "{report:?}");
    assert_eq!(report.conflicts[0].found_by, FoundBy::Push);
    assert_eq!(scene.converged().title(), "by B");
}

/// Every conflict and resolution `_sync_log` holds for record `id`.
fn logged_resolutions<T: Transport>(client: &Client<T>, id: Uuid) -> Vec<String> {
    client.db.conflict_log(id).unwrap()
}

/// Projects are `lww`: the memo interface over their name.
impl Memo for Project {
    fn new(title: &str, _body: &str) -> Self {
        Project {
            name: title.to_owned(),
            archived: false,
            budget: 0,
        }
    }
    fn title(&self) -> &str {
        &self.name
    }
    fn body(&self) -> &str {
        ""
    }
}

/// Answers every pull with "nothing new" (the request's cursors back), pushes through.
struct PushOnly<'t, T>(&'t T);

impl<T: Transport> Transport for PushOnly<'_, T> {
    fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut page = self.0.pull(request)?;
        page.changes.clear();
        page.has_more = false;
        Ok(page)
    }
    fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.0.push(request)
    }
}
