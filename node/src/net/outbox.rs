//! The runtime's side of the network: consensus effects become commands in a bounded queue that
//! the swarm task drains.

use libp2p::PeerId;
use lichen_consensus::Message;
use tokio::sync::mpsc;

use super::{COMMANDS_MAX, Role};
use crate::runtime::Outbox;

/// What the runtime asks of the network.
#[derive(Debug)]
pub enum Command {
    Broadcast(Message),
    RequestSync { from_height: u64 },
    HelpCatchUp { validator: u16, from_height: u64 },
    Penalise { peer: PeerId, reason: String },
}

/// The runtime's side of the network: a bounded queue of commands.
#[derive(Debug)]
pub struct NetOutbox {
    commands: mpsc::Sender<Command>,
    role: Role,
}

impl NetOutbox {
    fn send(&self, command: Command) {
        if let Err(e) = self.commands.try_send(command) {
            tracing::warn!("network command queue full; dropped: {e}");
        }
    }
}

impl Outbox for NetOutbox {
    fn broadcast(&mut self, message: Message) {
        // An observer's core never votes; should it ever produce a message, it stays here.
        if self.role == Role::Validator {
            self.send(Command::Broadcast(message));
        }
    }

    fn request_sync(&mut self, from_height: u64) {
        self.send(Command::RequestSync { from_height });
    }

    fn help_catch_up(&mut self, validator: u16, from_height: u64) {
        if self.role == Role::Validator {
            self.send(Command::HelpCatchUp {
                validator,
                from_height,
            });
        }
    }

    fn penalise(&mut self, peer: PeerId, reason: String) {
        self.send(Command::Penalise { peer, reason });
    }
}

/// The queue between the runtime and the network.
pub fn command_channel(role: Role) -> (NetOutbox, mpsc::Receiver<Command>) {
    let (tx, rx) = mpsc::channel(COMMANDS_MAX);
    (NetOutbox { commands: tx, role }, rx)
}
