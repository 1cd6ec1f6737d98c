//! The five conflict strategies, in process: two devices edit the same record offline and
//! sync in both orders; the outcome is what the strategy says, and after a final sync every
//! device equals the server. The scenes are in `conflict_scenes/` (`http_sync.rs` plays them
//! over HTTP).

mod conflict_scenes;
mod sync_app;

use std::sync::Arc;

use conflict_scenes::Devices;
use sync_app::{Client, server};
use syncwright_server::Server;
use syncwright_server::transport::InProcessTransport;

/// Devices syncing with a fresh in-memory server through the in-process transport.
struct InProcess(Arc<Server>);

impl Devices for InProcess {
    type T = InProcessTransport;
    fn device(&self) -> Client {
        Client::new(&self.0)
    }
}

fn in_process() -> InProcess {
    InProcess(server())
}

#[test]
fn lww_keeps_the_later_write_in_both_orders() {
    conflict_scenes::lww_keeps_the_later_write_in_both_orders(in_process);
}

#[test]
fn lww_ties_go_to_the_server() {
    conflict_scenes::lww_ties_go_to_the_server(in_process);
}

#[test]
fn lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock() {
    conflict_scenes::lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock(
        in_process,
    );
}

#[test]
fn server_wins_keeps_whatever_reached_the_server_first() {
    conflict_scenes::server_wins_keeps_whatever_reached_the_server_first(in_process);
}

#[test]
fn client_wins_keeps_the_change_of_the_device_that_syncs_last() {
    conflict_scenes::client_wins_keeps_the_change_of_the_device_that_syncs_last(in_process);
}

#[test]
fn field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field() {
    conflict_scenes::field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field(
        in_process,
    );
}

#[test]
fn manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution() {
    conflict_scenes::manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution(
        in_process,
    );
}

#[test]
fn manual_resolution_by_choosing_a_side() {
    conflict_scenes::manual_resolution_by_choosing_a_side(in_process);
}

#[test]
fn a_push_answered_conflict_is_resolved_by_the_strategy() {
    conflict_scenes::a_push_answered_conflict_is_resolved_by_the_strategy(in_process);
}
