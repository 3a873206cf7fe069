//! Push streams: what one node tells another without wanting an answer (consensus messages,
//! forwarded transactions, catch-up pushes) travels on long-lived streams, two per ordered pair
//! of peers (one per [`PushLane`]: consensus messages never wait behind forwarded transactions),
//! as a sequence of frames, instead of one request stream each. A request stream costs
//! its opening, its protocol negotiation, its close and an `Ack` back (a dozen yamux and Noise
//! frames, each a system call, and a timer), for every forwarded batch and every vote; a push
//! costs the bytes of its frame, and the frames queued meanwhile leave in one write.
//!
//! Sending: one writer task per peer and lane drains its bounded outbox (`PUSH_OUTBOX_PER_PEER_MAX`
//! messages, `PUSH_OUTBOX_BYTES_PER_PEER_MAX` bytes), opening the stream when it has none; what
//! cannot be written (the peer gone, the stream reset, a write not done within
//! `PUSH_WRITE_TIMEOUT_MS`) is dropped, as a failed request was. Receiving: one reader task per
//! peer and lane (a newer stream replaces the older) reads frames of at most `REQUEST_BYTES_MAX`,
//! decodes them off the network task, and hands them over through its own bounded inbox, so a peer
//! that sends faster than this node handles waits on its own stream (yamux's window) and never
//! takes another peer's turn. A frame that is too large, undecodable, a request that wants an
//! answer (`SyncFrom`) or a message of the other lane ends the stream and counts against the peer.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::channel::mpsc as fmpsc;
use futures::stream::{BoxStream, SelectAll};
use futures::{AsyncWriteExt, SinkExt, StreamExt};
use libp2p::{PeerId, Stream, StreamProtocol};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::AbortHandle;

use crate::budget::QueuedBytes;

use super::wire::{self, FRAME_PREFIX_BYTES, PushLane, REQUEST_BYTES_MAX, Request, WireError};

/// Encoded messages waiting to be written to one peer on one lane, at most; more are dropped (and
/// logged) until the writer catches up.
pub const PUSH_OUTBOX_PER_PEER_MAX: usize = 1_024;
/// Bytes of those messages, at most (a message alone in the outbox is taken whatever its size,
/// up to a frame's limit): a peer that stops reading holds at most this much of this node's
/// memory.
pub const PUSH_OUTBOX_BYTES_PER_PEER_MAX: usize = 64 * 1024 * 1024;
/// Frames gathered into one write, at most.
pub const PUSH_WRITE_FRAMES_MAX: usize = 64;
/// A write not done in this time gives the stream up (it is reset, and the next message opens
/// another): a peer that stops reading holds a writer no longer than a request was held.
pub const PUSH_WRITE_TIMEOUT_MS: u64 = super::REQUEST_TIMEOUT_MS;
/// A writer's buffer keeps at most this much room between writes (one write may have needed up
/// to the outbox's bytes).
const WRITE_BUFFER_KEPT_BYTES: usize = 1024 * 1024;
/// Messages read from one peer on one lane and waiting for the network task, at most: the peer's
/// reader waits (and with it the peer's stream) while its inbox is full.
pub const PUSH_INBOX_PER_PEER_MAX: usize = 64;
/// Bytes of those messages, at most (a message alone is taken whatever its size, up to a frame's
/// limit): the reader waits for room as it waits for a place.
pub const PUSH_INBOX_BYTES_PER_PEER_MAX: usize = 64 * 1024 * 1024;
/// The unit the inbox's bytes are counted in (a semaphore's permits are `u32`s).
const INBOX_UNIT_BYTES: usize = 1024;
const INBOX_UNITS: usize = PUSH_INBOX_BYTES_PER_PEER_MAX / INBOX_UNIT_BYTES;
const _: () = assert!(INBOX_UNITS <= u32::MAX as usize);

/// What a reader hands to the network task: a message with the room it takes in the reader's
/// inbox (given back when dropped), or why the peer's stream was ended.
pub(super) type Pushed = (PeerId, Result<(Request, OwnedSemaphorePermit), String>);

/// One peer's queue of messages to write, and their bytes (shared with its writer).
struct Outbox {
    messages: mpsc::Sender<Arc<Vec<u8>>>,
    bytes: QueuedBytes,
}

/// New push streams from peers, each with its lane.
pub(super) type Incoming = BoxStream<'static, (PushLane, (PeerId, Stream))>;

/// The network task's side of the push streams.
pub(super) struct Pushes {
    control: libp2p_stream::Control,
    /// Each lane's protocol, in `PushLane::ALL`'s order.
    protocols: [StreamProtocol; 2],
    outboxes: BTreeMap<(PeerId, PushLane), Outbox>,
    readers: BTreeMap<(PeerId, PushLane), AbortHandle>,
    /// Every reader's inbox, polled in turn.
    pub(super) inboxes: SelectAll<fmpsc::Receiver<Pushed>>,
    bytes_in: Counter,
    bytes_out: Counter,
}

impl Pushes {
    pub(super) fn new(
        control: libp2p_stream::Control,
        protocols: [StreamProtocol; 2],
        bytes_in: Counter,
        bytes_out: Counter,
    ) -> Self {
        Pushes {
            control,
            protocols,
            outboxes: BTreeMap::new(),
            readers: BTreeMap::new(),
            inboxes: SelectAll::new(),
            bytes_in,
            bytes_out,
        }
    }

    fn protocol(&self, lane: PushLane) -> StreamProtocol {
        self.protocols[lane as usize].clone()
    }

    /// Where new streams from peers arrive, on both lanes (once; the network task polls it).
    pub(super) fn incoming(&mut self) -> Result<Incoming, WireError> {
        let mut lanes = Vec::new();
        for lane in PushLane::ALL {
            let streams =
                self.control
                    .accept(self.protocol(lane))
                    .map_err(|e| WireError::Protocol {
                        reason: e.to_string(),
                    })?;
            lanes.push(streams.map(move |new| (lane, new)));
        }
        Ok(futures::stream::select_all(lanes).boxed())
    }

    /// Queues `message` (a `Request`'s bytes, encoded once for all) on `lane` for each of
    /// `peers`; a peer whose outbox is full loses it (logged).
    pub(super) fn send(
        &mut self,
        peers: impl IntoIterator<Item = PeerId>,
        lane: PushLane,
        message: Vec<u8>,
    ) {
        if message.len() > REQUEST_BYTES_MAX {
            tracing::warn!(bytes = message.len(), "push over the frame limit; not sent");
            return;
        }
        let message = Arc::new(message);
        for peer in peers {
            let outbox = self.outboxes.entry((peer, lane)).or_insert_with(|| {
                let (tx, rx) = mpsc::channel(PUSH_OUTBOX_PER_PEER_MAX);
                let bytes = QueuedBytes::default();
                tokio::spawn(write_to(
                    self.control.clone(),
                    peer,
                    self.protocols[lane as usize].clone(),
                    rx,
                    bytes.clone(),
                    self.bytes_out.clone(),
                ));
                Outbox {
                    messages: tx,
                    bytes,
                }
            });
            // Counted before it is queued: the writer may take it (and count it off) at once.
            if !outbox
                .bytes
                .take(message.len(), PUSH_OUTBOX_BYTES_PER_PEER_MAX)
            {
                tracing::debug!(%peer, ?lane, "push outbox over its bytes; message dropped");
                continue;
            }
            if outbox.messages.try_send(message.clone()).is_err() {
                outbox.bytes.give_back(message.len());
                tracing::debug!(%peer, ?lane, "push outbox full; message dropped");
            }
        }
    }

    /// Forgets peers no longer wanted: their writers end once their outboxes are dropped, their
    /// readers are stopped.
    pub(super) fn retain(&mut self, keep: impl Fn(&PeerId) -> bool) {
        self.outboxes.retain(|(peer, _), _| keep(peer));
        self.readers.retain(|(peer, _), reader| {
            let kept = keep(peer);
            if !kept {
                reader.abort();
            }
            kept
        });
    }

    /// Starts reading a new stream of `lane` from `peer`, in place of any older one.
    pub(super) fn accept(&mut self, lane: PushLane, peer: PeerId, stream: Stream) {
        let (tx, rx) = fmpsc::channel(PUSH_INBOX_PER_PEER_MAX);
        let reader = tokio::spawn(read_from(peer, lane, stream, tx, self.bytes_in.clone()));
        if let Some(older) = self.readers.insert((peer, lane), reader.abort_handle()) {
            older.abort();
        }
        self.inboxes.push(rx);
    }
}

/// Writes one lane's outbox for `peer` to its push stream, opening one when there is none.
async fn write_to(
    mut control: libp2p_stream::Control,
    peer: PeerId,
    protocol: StreamProtocol,
    mut outbox: mpsc::Receiver<Arc<Vec<u8>>>,
    queued_bytes: QueuedBytes,
    bytes_out: Counter,
) {
    let mut stream: Option<Stream> = None;
    let mut frames = Vec::new();
    while let Some(first) = outbox.recv().await {
        frames.clear();
        let mut taken = first.len();
        wire::append_frame(&mut frames, &first);
        for _ in 1..PUSH_WRITE_FRAMES_MAX {
            match outbox.try_recv() {
                Ok(message) => {
                    taken += message.len();
                    wire::append_frame(&mut frames, &message);
                }
                Err(_) => break,
            }
        }
        queued_bytes.give_back(taken);
        let open = match stream.as_mut() {
            Some(open) => open,
            None => match control.open_stream(peer, protocol.clone()).await {
                Ok(opened) => stream.insert(opened),
                Err(e) => {
                    tracing::debug!(%peer, "push stream not opened, messages dropped: {e}");
                    continue;
                }
            },
        };
        let written = tokio::time::timeout(
            std::time::Duration::from_millis(PUSH_WRITE_TIMEOUT_MS),
            async {
                open.write_all(&frames).await?;
                open.flush().await
            },
        )
        .await;
        match written {
            Ok(Ok(())) => {
                bytes_out.inc_by(frames.len() as u64);
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, "push stream broken, messages dropped: {e}");
                stream = None;
            }
            Err(_) => {
                tracing::debug!(%peer, "push stream not read in time, messages dropped");
                stream = None;
            }
        }
        if frames.capacity() > WRITE_BUFFER_KEPT_BYTES {
            frames = Vec::new();
        }
    }
}

/// Reads frames from `peer`'s stream of `lane` until it ends or breaks the protocol.
async fn read_from(
    peer: PeerId,
    lane: PushLane,
    mut stream: Stream,
    mut inbox: fmpsc::Sender<Pushed>,
    bytes_in: Counter,
) {
    let room = Arc::new(Semaphore::new(INBOX_UNITS));
    loop {
        let body = match wire::read_frame(&mut stream, REQUEST_BYTES_MAX).await {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let _ = inbox.send((peer, Err(e.to_string()))).await;
                return;
            }
            // The stream ended or the connection closed: nothing the peer did wrong.
            Err(_) => return,
        };
        bytes_in.inc_by(FRAME_PREFIX_BYTES + body.len() as u64);
        let pushed = match Request::from_bytes(&body) {
            Ok(request) if PushLane::of(&request) == Some(lane) => Ok(request),
            Ok(Request::SyncFrom { .. }) => Err("a sync request on a push stream".to_string()),
            Ok(_) => Err(format!(
                "a message of another lane on the {} stream",
                lane.name()
            )),
            Err(e) => Err(e.to_string()),
        };
        let units = body.len().div_ceil(INBOX_UNIT_BYTES).min(INBOX_UNITS);
        drop(body);
        let pushed = match pushed {
            Ok(request) => {
                // Room for the frame's bytes (or all the room, for one larger than the inbox):
                // the reader waits for it, and the peer's stream with it.
                let Ok(room) = room.clone().acquire_many_owned(units as u32).await else {
                    return;
                };
                Ok((request, room))
            }
            Err(reason) => Err(reason),
        };
        let broken = pushed.is_err();
        if inbox.send((peer, pushed)).await.is_err() || broken {
            return;
        }
    }
}
