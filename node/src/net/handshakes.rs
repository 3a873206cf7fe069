//! Incoming connections still in their handshake, per remote IP address: anyone may open a TCP
//! connection (the allow-list can only act once the handshake names the peer), and the swarm
//! holds each for up to its 10 s handshake timeout. `connection_limits` bounds them in all
//! (`PENDING_INCOMING_MAX`); this bounds them per address, so one host holding idle connections
//! cannot take every slot and keep the validators from reconnecting.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

use libp2p::PeerId;
use libp2p::core::multiaddr::Protocol;
use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint, Multiaddr};
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm, dummy,
};

/// Incoming connections in their handshake from one IP address, at most (validators and
/// observers on one host, as in `lichen dev`, dial each other a few at a time).
pub const PENDING_INCOMING_PER_IP_MAX: usize = 16;

/// Why a connection was refused (the swarm logs it).
#[derive(Debug, thiserror::Error)]
#[error("{count} connections from {ip} are already in their handshake (at most {max})")]
pub struct TooManyPending {
    pub ip: IpAddr,
    pub count: usize,
    pub max: usize,
}

/// The pending incoming connections of each remote IP address.
#[derive(Debug, Default)]
pub struct PendingPerIp {
    by_ip: BTreeMap<IpAddr, BTreeSet<ConnectionId>>,
}

fn ip_of(address: &Multiaddr) -> Option<IpAddr> {
    address.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl PendingPerIp {
    /// Counts `id` from `remote`, or refuses it if its address has too many in their handshake.
    fn admit(&mut self, id: ConnectionId, remote: &Multiaddr) -> Result<(), TooManyPending> {
        let Some(ip) = ip_of(remote) else {
            return Ok(());
        };
        let pending = self.by_ip.entry(ip).or_default();
        if pending.len() >= PENDING_INCOMING_PER_IP_MAX {
            return Err(TooManyPending {
                ip,
                count: pending.len(),
                max: PENDING_INCOMING_PER_IP_MAX,
            });
        }
        pending.insert(id);
        Ok(())
    }

    /// `id`'s handshake ended, one way or the other.
    fn done(&mut self, id: ConnectionId, remote: &Multiaddr) {
        if let Some(ip) = ip_of(remote)
            && let Some(pending) = self.by_ip.get_mut(&ip)
        {
            pending.remove(&id);
            if pending.is_empty() {
                self.by_ip.remove(&ip);
            }
        }
    }
}

impl NetworkBehaviour for PendingPerIp {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.admit(connection_id, remote)
            .map_err(ConnectionDenied::new)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.done(connection_id, remote);
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _address: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ListenFailure(failure) => {
                self.done(failure.connection_id, failure.send_back_addr);
            }
            FromSwarm::ConnectionEstablished(established) => {
                if let ConnectedPoint::Listener { send_back_addr, .. } = established.endpoint {
                    self.done(established.connection_id, send_back_addr);
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_address_cannot_hold_every_handshake_slot() {
        let mut pending = PendingPerIp::default();
        let flooder: Multiaddr = "/ip4/10.0.0.9/tcp/40000".parse().unwrap();
        let validator: Multiaddr = "/ip4/10.0.0.2/tcp/40001".parse().unwrap();
        for n in 0..PENDING_INCOMING_PER_IP_MAX {
            pending
                .admit(ConnectionId::new_unchecked(n), &flooder)
                .unwrap();
        }
        let refused = pending
            .admit(ConnectionId::new_unchecked(1_000), &flooder)
            .unwrap_err();
        assert_eq!(refused.count, PENDING_INCOMING_PER_IP_MAX);
        // Another address still gets in; a finished handshake frees its address's slot.
        pending
            .admit(ConnectionId::new_unchecked(2_000), &validator)
            .unwrap();
        pending.done(ConnectionId::new_unchecked(0), &flooder);
        pending
            .admit(ConnectionId::new_unchecked(1_001), &flooder)
            .unwrap();
        // Every slot given back leaves nothing behind.
        for n in 1..PENDING_INCOMING_PER_IP_MAX {
            pending.done(ConnectionId::new_unchecked(n), &flooder);
        }
        pending.done(ConnectionId::new_unchecked(1_001), &flooder);
        pending.done(ConnectionId::new_unchecked(2_000), &validator);
        assert!(pending.by_ip.is_empty());
    }
}
