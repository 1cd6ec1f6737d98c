//! The five conflict strategies, in process: two devices edit the same record offline and
//! sync in both orders; the outcome is what the strategy says, and after a final sync every
//! device equals the server. The scenes are in `conflict_scenes/` (`http_sync.rs` plays them
//! over HTTP).

#[macro_use]
mod backends;

use backends::Backend;
mod conflict_scenes;
mod sync_app;

use std::sync::Arc;

use conflict_scenes::Devices;
use sync_app::{Client, server_on};
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

fn in_process(backend: Backend) -> InProcess {
    InProcess(server_on(backend))
}

fn lww_keeps_the_later_write_in_both_orders(backend: Backend) {
    conflict_scenes::lww_keeps_the_later_write_in_both_orders(|| in_process(backend));
}

fn lww_ties_go_to_the_server(backend: Backend) {
    conflict_scenes::lww_ties_go_to_the_server(|| in_process(backend));
}

fn lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock(backend: Backend) {
    conflict_scenes::lww_an_edit_made_after_seeing_a_version_wins_even_with_a_slow_clock(|| {
        in_process(backend)
    });
}

fn server_wins_keeps_whatever_reached_the_server_first(backend: Backend) {
    conflict_scenes::server_wins_keeps_whatever_reached_the_server_first(|| in_process(backend));
}

fn client_wins_keeps_the_change_of_the_device_that_syncs_last(backend: Backend) {
    conflict_scenes::client_wins_keeps_the_change_of_the_device_that_syncs_last(|| {
        in_process(backend)
    });
}

fn field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field(backend: Backend) {
    conflict_scenes::field_merge_keeps_both_sides_fields_and_the_later_edit_of_a_shared_field(
        || in_process(backend),
    );
}

fn manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution(backend: Backend) {
    conflict_scenes::manual_marks_the_conflict_keeps_both_versions_and_syncs_the_apps_resolution(
        || in_process(backend),
    );
}

fn manual_resolution_by_choosing_a_side(backend: Backend) {
    conflict_scenes::manual_resolution_by_choosing_a_side(|| in_process(backend));
}

fn a_push_answered_conflict_is_resolved_by_the_strategy(backend: Backend) {
    conflict_scenes::a_push_answered_conflict_is_resolved_by_the_strategy(|| in_process(backend));
}

on_both_backends!(
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
