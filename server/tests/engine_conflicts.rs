//! The five conflict strategies, in process: two devices edit the same record offline and
//! sync in both orders; the outcome is what the strategy says, and after a final sync every
//! device equals the server. The scenes are in `conflict_scenes/` (`http_sync.rs` plays them
//! over HTTP).

#[macro_use]
mod backends;

use backends::Backend;
#[macro_use]
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

every_conflict_scene_on_both_backends!(in_process);
