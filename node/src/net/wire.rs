//! The peer-to-peer wire protocol: what validators and observers say to each other (a sync
//! request and its answer over libp2p request-response; the rest as frames on push streams, see
//! `push`), and its length-prefixed framing. Nothing here is hashed or
//! signed (consensus messages, blocks and certificates carry their own signatures); the exact
//! bytes are in PROTOCOL.md, "Network protocol".

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use lichen_consensus::MESSAGE_BYTES_MAX;
use lichen_contracts::block::{BLOCK_BYTES_LIMIT, BLOCK_TXS_LIMIT, Block, CommitCertificate};
use lichen_contracts::codec::{Decode, Encode, Reader, Writer};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::CodecError;
use lichen_contracts::tx::TX_BYTES_MAX;
use prometheus_client::metrics::counter::Counter;

/// Transactions in one forwarded batch, at most.
pub const TX_BATCH_MAX: usize = 256;
/// Bytes of transactions (with their length prefixes) in one forwarded batch, at most: 256
/// transactions of the largest size would not fit a request frame, so a batch is also cut by
/// bytes.
pub const TX_BATCH_BYTES_MAX: usize = REQUEST_BYTES_MAX - 1024;
/// Blocks in one sync answer or catch-up push, at most.
pub const SYNC_BLOCKS_MAX: usize = 32;
/// Bytes of blocks and certificates in one sync answer, at most (at least one block is always
/// sent, so one block of the chain's maximum size still syncs).
pub const SYNC_BYTES_SOFT_MAX: usize = 16 * 1024 * 1024;
/// A request's body, at most: a consensus message of the largest size, with room for the tag.
pub const REQUEST_BYTES_MAX: usize = MESSAGE_BYTES_MAX + 64;
/// Bytes of blocks and certificates one `CatchUp` push carries, at most: inside a request frame
/// (`REQUEST_BYTES_MAX`) with the framing of `SYNC_BLOCKS_MAX` blocks around them.
pub const CATCH_UP_BYTES_MAX: usize = MESSAGE_BYTES_MAX - 64 * 1024;

// A block of a chain's largest size (its transactions, their length prefixes, the header) and
// its certificate fit one catch-up push, so a lagging validator is never left with a block that
// can only reach it by asking.
const _: () =
    assert!(BLOCK_BYTES_LIMIT as usize + BLOCK_TXS_LIMIT * 4 + 1024 * 1024 <= CATCH_UP_BYTES_MAX);
/// A response's body, at most: the soft limit plus one maximal block with its certificate.
pub const RESPONSE_BYTES_MAX: usize = SYNC_BYTES_SOFT_MAX + MESSAGE_BYTES_MAX;

/// The request protocol's version: 2 since push streams took the messages that want no answer
/// (version 1 carried them as requests; a node of each cannot negotiate with the other, rather
/// than take the other's messages for protocol breaches).
pub const REQUEST_PROTOCOL_VERSION: u32 = 2;

/// The request protocol's name: peers of another genesis cannot even negotiate it, so a node
/// started with a different genesis never exchanges a message with this chain.
pub fn protocol_name(genesis_hash: &Hash32) -> Result<StreamProtocol, WireError> {
    let name = format!(
        "/lichen/{REQUEST_PROTOCOL_VERSION}/{}",
        genesis_hash.to_hex()
    );
    StreamProtocol::try_from_owned(name).map_err(|e| WireError::Protocol {
        reason: e.to_string(),
    })
}

/// The two push streams a node keeps to each peer it sends to (see `net::push`), each its own
/// protocol so that yamux interleaves them: a vote never waits behind a peer's forwarded
/// transactions on a slow link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PushLane {
    /// `Consensus` and `CatchUp`.
    Consensus,
    /// `Transactions`.
    Transactions,
}

impl PushLane {
    pub const ALL: [PushLane; 2] = [PushLane::Consensus, PushLane::Transactions];

    /// The lane `request` travels on; `None` for a `SyncFrom`, which is a request.
    pub fn of(request: &Request) -> Option<PushLane> {
        match request {
            Request::Consensus(_) | Request::CatchUp(_) => Some(PushLane::Consensus),
            Request::Transactions(_) => Some(PushLane::Transactions),
            Request::SyncFrom { .. } => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PushLane::Consensus => "push",
            PushLane::Transactions => "push-txs",
        }
    }
}

/// A push lane's protocol name: `/lichen/push/1/<genesis>` or `/lichen/push-txs/1/<genesis>`,
/// tied to the genesis like the request protocol's.
pub fn push_protocol_name(
    genesis_hash: &Hash32,
    lane: PushLane,
) -> Result<StreamProtocol, WireError> {
    StreamProtocol::try_from_owned(format!(
        "/lichen/{}/1/{}",
        lane.name(),
        genesis_hash.to_hex()
    ))
    .map_err(|e| WireError::Protocol {
        reason: e.to_string(),
    })
}

/// What a peer sends another: a `SyncFrom` as a request; the others, which want no answer, on
/// the push stream of their lane ([`PushLane::of`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A consensus message (its `Message::to_bytes` form), signed by the sending validator.
    Consensus(Vec<u8>),
    /// Transactions the sender admitted, for the validators' mempools (each leads in turn).
    Transactions(Vec<Vec<u8>>),
    /// Committed blocks with their certificates, from `from_height` on, at most `blocks_max`.
    SyncFrom { from_height: u64, blocks_max: u16 },
    /// Committed blocks pushed to a validator seen lagging (consensus' `HelpCatchUp`), as they
    /// came off the wire (see [`encode_blocks`]): the receiver decodes them only once it knows
    /// the sender is a validator, and off the network task.
    CatchUp(Vec<u8>),
}

/// The answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The answer to a request that should not have been one (a push message sent as a
    /// request: the sender is penalised).
    Ack,
    /// The committed blocks asked for, in height order; empty if the peer has none from there.
    Blocks(Vec<CertifiedBlock>),
    /// The peer is reading as many sync answers as it will at once: no blocks, and no claim that
    /// it has none (ask again, or another peer).
    Busy,
}

/// A committed block and the certificate that makes it final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertifiedBlock {
    pub block: Block,
    pub certificate: CommitCertificate,
}

impl CertifiedBlock {
    /// The consensus input that applies it (the core checks the certificate).
    pub fn into_input(self) -> lichen_consensus::Input {
        lichen_consensus::Input::Synced {
            block: self.block,
            certificate: self.certificate,
        }
    }
}

/// Why bytes from a peer are not a valid request or response.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("frame of {len} bytes is over the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("malformed {what}: {source}")]
    Malformed {
        what: &'static str,
        source: CodecError,
    },
    #[error("invalid protocol name: {reason}")]
    Protocol { reason: String },
}

mod tag {
    pub const CONSENSUS: u8 = 1;
    pub const TRANSACTIONS: u8 = 2;
    pub const SYNC_FROM: u8 = 3;
    pub const CATCH_UP: u8 = 4;
    pub const ACK: u8 = 0;
    pub const BLOCKS: u8 = 1;
    pub const BUSY: u8 = 2;
}

/// The bytes of a `CatchUp` push of `blocks` (the same form as a sync answer's blocks).
pub fn encode_blocks(blocks: &[CertifiedBlock]) -> Vec<u8> {
    let mut w = Writer::new();
    write_blocks(&mut w, blocks);
    w.into_bytes()
}

/// Decodes the blocks of a `CatchUp` push: exactly a sequence of at most `SYNC_BLOCKS_MAX`.
pub fn decode_blocks(bytes: &[u8]) -> Result<Vec<CertifiedBlock>, WireError> {
    let malformed = |source| WireError::Malformed {
        what: "catch-up blocks",
        source,
    };
    let mut r = Reader::new(bytes);
    let blocks = read_blocks(&mut r).map_err(malformed)?;
    r.finish().map_err(malformed)?;
    Ok(blocks)
}

fn write_blocks(w: &mut Writer, blocks: &[CertifiedBlock]) {
    w.len(blocks.len());
    for b in blocks {
        w.bytes(&b.block.to_bytes());
        w.bytes(&b.certificate.to_bytes());
    }
}

fn read_blocks(r: &mut Reader<'_>) -> Result<Vec<CertifiedBlock>, CodecError> {
    let count = r.len("blocks", SYNC_BLOCKS_MAX)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let block = Block::from_bytes(&r.bytes("block", MESSAGE_BYTES_MAX)?)?;
        let certificate =
            CommitCertificate::from_bytes(&r.bytes("certificate", MESSAGE_BYTES_MAX)?)?;
        out.push(CertifiedBlock { block, certificate });
    }
    Ok(out)
}

impl Request {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Request::Consensus(message) => {
                w.u8(tag::CONSENSUS);
                w.bytes(message);
            }
            Request::Transactions(txs) => {
                w.u8(tag::TRANSACTIONS);
                w.len(txs.len());
                for tx in txs {
                    w.bytes(tx);
                }
            }
            Request::SyncFrom {
                from_height,
                blocks_max,
            } => {
                w.u8(tag::SYNC_FROM);
                w.u64(*from_height);
                w.u16(*blocks_max);
            }
            Request::CatchUp(blocks) => {
                w.u8(tag::CATCH_UP);
                w.raw(blocks);
            }
        }
        w.into_bytes()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let malformed = |source| WireError::Malformed {
            what: "request",
            source,
        };
        let mut r = Reader::new(bytes);
        let request = match r.u8().map_err(malformed)? {
            tag::CONSENSUS => Request::Consensus(
                r.bytes("consensus message", MESSAGE_BYTES_MAX)
                    .map_err(malformed)?,
            ),
            tag::TRANSACTIONS => {
                let count = r.len("transactions", TX_BATCH_MAX).map_err(malformed)?;
                let mut txs = Vec::with_capacity(count);
                for _ in 0..count {
                    txs.push(r.bytes("transaction", TX_BYTES_MAX).map_err(malformed)?);
                }
                Request::Transactions(txs)
            }
            tag::SYNC_FROM => Request::SyncFrom {
                from_height: r.u64().map_err(malformed)?,
                blocks_max: r.u16().map_err(malformed)?,
            },
            // The rest of the frame, decoded later by `decode_blocks`.
            tag::CATCH_UP => return Ok(Request::CatchUp(bytes[1..].to_vec())),
            other => {
                return Err(malformed(CodecError::InvalidTag {
                    what: "request",
                    tag: other,
                }));
            }
        };
        r.finish().map_err(malformed)?;
        Ok(request)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Response::Ack => w.u8(tag::ACK),
            Response::Blocks(blocks) => {
                w.u8(tag::BLOCKS);
                write_blocks(&mut w, blocks);
            }
            Response::Busy => w.u8(tag::BUSY),
        }
        w.into_bytes()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let malformed = |source| WireError::Malformed {
            what: "response",
            source,
        };
        let mut r = Reader::new(bytes);
        let response = match r.u8().map_err(malformed)? {
            tag::ACK => Response::Ack,
            tag::BLOCKS => Response::Blocks(read_blocks(&mut r).map_err(malformed)?),
            tag::BUSY => Response::Busy,
            other => {
                return Err(malformed(CodecError::InvalidTag {
                    what: "response",
                    tag: other,
                }));
            }
        };
        r.finish().map_err(malformed)?;
        Ok(response)
    }
}

/// Reads one frame: a `u32` big-endian length, then that many bytes (at most `max`; a larger
/// length is refused before anything is allocated).
pub(super) async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            WireError::TooLarge { len, max },
        ));
    }
    let mut body = vec![0u8; len];
    io.read_exact(&mut body).await?;
    Ok(body)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    body: &[u8],
    max: usize,
) -> io::Result<()> {
    if body.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            WireError::TooLarge {
                len: body.len(),
                max,
            },
        ));
    }
    // One write: a yamux stream sends a frame per write (each framed and encrypted again by
    // Noise), so the length and the body go out together.
    let mut frame = Vec::with_capacity(4 + body.len());
    append_frame(&mut frame, body);
    io.write_all(&frame).await?;
    io.close().await
}

/// Appends `body` as a frame (its length as a big-endian `u32`, then the body) to `out`. Bodies
/// are bounded far below 4 GiB (`REQUEST_BYTES_MAX`, `RESPONSE_BYTES_MAX`) by their writers.
pub(super) fn append_frame(out: &mut Vec<u8>, body: &[u8]) {
    assert!(
        body.len() <= RESPONSE_BYTES_MAX,
        "frame of {} bytes",
        body.len()
    );
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn invalid(e: WireError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The request-response codec: frames with limits, decoded strictly. It counts the bytes of
/// every frame it reads and writes (the `lichen_p2p_bytes_total` metric).
#[derive(Clone, Debug, Default)]
pub struct WireCodec {
    pub bytes_in: Counter,
    pub bytes_out: Counter,
}

/// A frame's length prefix, in bytes.
pub(super) const FRAME_PREFIX_BYTES: u64 = 4;

impl libp2p::request_response::Codec for WireCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = read_frame(io, REQUEST_BYTES_MAX).await?;
        self.bytes_in.inc_by(FRAME_PREFIX_BYTES + body.len() as u64);
        Request::from_bytes(&body).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let body = read_frame(io, RESPONSE_BYTES_MAX).await?;
        self.bytes_in.inc_by(FRAME_PREFIX_BYTES + body.len() as u64);
        Response::from_bytes(&body).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let body = request.to_bytes();
        self.bytes_out
            .inc_by(FRAME_PREFIX_BYTES + body.len() as u64);
        write_frame(io, &body, REQUEST_BYTES_MAX).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let body = response.to_bytes();
        self.bytes_out
            .inc_by(FRAME_PREFIX_BYTES + body.len() as u64);
        write_frame(io, &body, RESPONSE_BYTES_MAX).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn requests_and_responses_round_trip() {
        for request in [
            Request::Consensus(vec![1, 2, 3]),
            Request::Transactions(vec![vec![9; 10], vec![]]),
            Request::SyncFrom {
                from_height: 7,
                blocks_max: 32,
            },
            Request::CatchUp(encode_blocks(&[])),
        ] {
            assert_eq!(Request::from_bytes(&request.to_bytes()).unwrap(), request);
        }
        for response in [Response::Ack, Response::Blocks(vec![]), Response::Busy] {
            assert_eq!(
                Response::from_bytes(&response.to_bytes()).unwrap(),
                response
            );
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert!(Request::from_bytes(&[]).is_err());
        assert!(Request::from_bytes(&[99]).is_err());
        let mut sync = Request::SyncFrom {
            from_height: 1,
            blocks_max: 1,
        }
        .to_bytes();
        sync.push(0);
        assert!(Request::from_bytes(&sync).is_err(), "trailing byte");
        // A batch claiming more transactions than allowed is refused by its count.
        let mut w = Writer::new();
        w.u8(tag::TRANSACTIONS);
        w.len(TX_BATCH_MAX + 1);
        assert!(Request::from_bytes(&w.into_bytes()).is_err());
        assert!(Response::from_bytes(&[5]).is_err());
    }

    #[test]
    fn catch_up_blocks_are_decoded_only_when_asked() {
        // The request keeps the bytes as they came (nothing is decoded for a stranger) ...
        let junk = vec![0, 0, 0, 1, 0xff, 0xff];
        let mut frame = vec![tag::CATCH_UP];
        frame.extend_from_slice(&junk);
        assert_eq!(
            Request::from_bytes(&frame).unwrap(),
            Request::CatchUp(junk.clone())
        );
        // ... and the receiver's decoding refuses them.
        assert!(decode_blocks(&junk).is_err());
        assert_eq!(decode_blocks(&encode_blocks(&[])).unwrap(), vec![]);
        let mut trailing = encode_blocks(&[]);
        trailing.push(0);
        assert!(decode_blocks(&trailing).is_err());
    }

    #[test]
    fn frames_over_the_limit_are_refused_before_reading() {
        let mut frame = ((REQUEST_BYTES_MAX + 1) as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&[0; 16]);
        let mut io = futures::io::Cursor::new(frame);
        let err = futures::executor::block_on(read_frame(&mut io, REQUEST_BYTES_MAX)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
