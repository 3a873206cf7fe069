//! The network protocol against a real node, from a hand-made libp2p client: block sync answers
//! with blocks whose certificates verify, a listed peer that sends invalid messages (on its push
//! stream or as requests) is scored down, disconnected and refused, and so is a validator that
//! answers sync without blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::{AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identity, noise, tcp, yamux};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::model::Observer;
use lichen_contracts::testkit::TestChain;
use lichen_node::net::NetworkOptions;
use lichen_node::net::peers::{BAN_THRESHOLD_POINTS, PENALTY_INVALID_POINTS};
use lichen_node::net::wire::{self, PushLane, Request, Response, WireCodec};
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};

/// A peer speaking both of the node's protocols: requests, and push streams.
#[derive(NetworkBehaviour)]
struct ClientBehaviour {
    wire: request_response::Behaviour<WireCodec>,
    push: libp2p_stream::Behaviour,
}

type Client = Swarm<ClientBehaviour>;

/// A one-validator chain on the network whose genesis lists `observer` as an observer.
async fn node_with_observer(suite: Suite, observer: &PeerId) -> (RunningNode, TestChain) {
    let chain = TestChain::new(suite, 1);
    let mut genesis = chain.genesis.clone();
    let validator_net = identity::Keypair::generate_ed25519();
    genesis.validators.validators[0].peer_id = validator_net.public().to_peer_id().to_bytes();
    genesis.observers = vec![Observer {
        name: "test-client".into(),
        peer_id: observer.to_bytes(),
    }];
    let key = chain.owned_key("validator-0");
    let mut options = NodeOptions::new(
        DataDir::Memory,
        genesis,
        key,
        "127.0.0.1:0".parse().unwrap(),
    );
    // The tests wait for blocks with nothing to order: empty blocks often.
    options.heartbeat_ms = 100;
    options.network = Some(NetworkOptions {
        keypair: validator_net,
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        peers: vec![],
    });
    (start(options).await.unwrap(), chain)
}

fn client(keypair: identity::Keypair, genesis_hash: &Hash32) -> Client {
    let protocol = wire::protocol_name(genesis_hash).unwrap();
    libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| ClientBehaviour {
            wire: request_response::Behaviour::with_codec(
                WireCodec::default(),
                [(protocol, ProtocolSupport::Full)],
                request_response::Config::default(),
            ),
            push: libp2p_stream::Behaviour::new(),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

fn node_address(node: &RunningNode) -> Multiaddr {
    let net = node.network.as_ref().unwrap();
    net.listen_addrs[0].clone().with_p2p(net.peer_id).unwrap()
}

/// Sends `request` and waits for its answer (or the failure), at most 10 s.
async fn ask(
    client: &mut Client,
    peer: PeerId,
    request: Request,
) -> Result<Response, request_response::OutboundFailure> {
    let id = client.behaviour_mut().wire.send_request(&peer, request);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, client.select_next_some())
            .await
            .expect("an answer within 10 s");
        match event {
            SwarmEvent::Behaviour(ClientBehaviourEvent::Wire(
                request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                },
            )) if request_id == id => return Ok(response),
            SwarmEvent::Behaviour(ClientBehaviourEvent::Wire(
                request_response::Event::OutboundFailure {
                    request_id, error, ..
                },
            )) if request_id == id => return Err(error),
            _ => {}
        }
    }
}

/// Opens a push stream of `lane` to `peer` (driving the client meanwhile), at most 10 s.
async fn open_push(
    client: &mut Client,
    peer: PeerId,
    genesis_hash: &Hash32,
    lane: PushLane,
) -> libp2p::Stream {
    let protocol = wire::push_protocol_name(genesis_hash, lane).unwrap();
    let mut control = client.behaviour().push.new_control();
    let open = control.open_stream(peer, protocol);
    tokio::pin!(open);
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            stream = &mut open => return stream.expect("a push stream"),
            _ = client.select_next_some() => {}
            _ = &mut deadline => panic!("no push stream within 10 s"),
        }
    }
}

/// Writes `bytes` to a push stream exactly as given.
async fn write_raw(stream: &mut libp2p::Stream, bytes: &[u8]) {
    stream.write_all(bytes).await.unwrap();
    stream.flush().await.unwrap();
}

/// Pushes `request` as one frame.
async fn push(stream: &mut libp2p::Stream, request: &Request) {
    let body = request.to_bytes();
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    write_raw(stream, &frame).await;
}

/// Drives `client` until it is no longer connected to `peer`, at most 10 s.
async fn wait_disconnected(client: &mut Client, peer: PeerId, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.is_connected(&peer) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still connected after {what}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(50), client.select_next_some()).await;
    }
}

/// An issue of licence `id` in agency-a's name, nonce `nonce`, signed by `signer`: encoded.
fn issue(chain: &TestChain, id: &str, nonce: u64, signer: &str) -> Vec<u8> {
    use lichen_contracts::model::{LicenceDraft, holder_commitment};
    use lichen_contracts::tx::{Payload, Transaction};
    let suite = chain.suite;
    chain
        .sign(
            Transaction {
                chain_id: chain.chain_id().to_string(),
                nonce,
                expires_at_height: 100,
                payload: Payload::IssueLicence(LicenceDraft {
                    id: id.into(),
                    licence_type: "business".into(),
                    issuer: "agency-a".into(),
                    document_hash: suite.digest(format!("file {id}").as_bytes()),
                    holder_commitment: holder_commitment(suite, &[1; 32], "holder"),
                    valid_from_ms: 0,
                    valid_until_ms: None,
                }),
            },
            &[signer],
        )
        .to_bytes()
}

/// A one-validator intl node past height 1 whose genesis lists a fresh client as an observer, and
/// that client dialling it: the node, its chain, the client and the node's peer id.
async fn observer_dialled() -> (RunningNode, TestChain, Client, PeerId) {
    let me = identity::Keypair::generate_ed25519();
    let (node, chain) = node_with_observer(Suite::Intl, &me.public().to_peer_id()).await;
    wait_height(&node, 1).await;
    let mut c = client(me, &node.chain.genesis().hash());
    let peer = node.network.as_ref().unwrap().peer_id;
    c.dial(node_address(&node)).unwrap();
    (node, chain, c, peer)
}

async fn wait_height(node: &RunningNode, height: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while node.chain.tip().unwrap().height < height {
        assert!(tokio::time::Instant::now() < deadline, "no blocks");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_answers_with_certified_blocks_in_order() {
    for suite in [Suite::Intl, Suite::Sm] {
        let me = identity::Keypair::generate_ed25519();
        let (node, _chain) = node_with_observer(suite, &me.public().to_peer_id()).await;
        wait_height(&node, 4).await;
        let genesis = node.chain.genesis().clone();
        let mut c = client(me, &genesis.hash());
        let peer = node.network.as_ref().unwrap().peer_id;
        c.dial(node_address(&node)).unwrap();

        let Response::Blocks(blocks) = ask(
            &mut c,
            peer,
            Request::SyncFrom {
                from_height: 2,
                blocks_max: 2,
            },
        )
        .await
        .unwrap() else {
            panic!("not blocks");
        };
        assert_eq!(blocks.len(), 2);
        // Each certificate verifies against the chain's validators, for exactly that block.
        let set = &genesis.validators;
        for (b, height) in blocks.iter().zip(2..) {
            assert_eq!(b.block.header.height, height);
            let hash = b.block.header.hash(suite);
            assert_eq!(b.certificate.block_hash, hash);
            b.certificate
                .verify(
                    suite,
                    &genesis.config.chain_id,
                    &genesis.hash(),
                    &b.block.header,
                    set,
                )
                .unwrap();
            assert_eq!(
                node.chain.block(height).unwrap().unwrap().to_bytes(),
                b.block.to_bytes()
            );
        }
        // Beyond the tip: an empty answer, not an error.
        let Response::Blocks(none) = ask(
            &mut c,
            peer,
            Request::SyncFrom {
                from_height: 1_000_000,
                blocks_max: 32,
            },
        )
        .await
        .unwrap() else {
            panic!("not blocks");
        };
        assert!(none.is_empty());
        node.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_peer_sending_invalid_messages_is_banned() {
    let (node, _chain, mut c, peer) = observer_dialled().await;
    let genesis_hash = node.chain.genesis().hash();

    // An observer may ask for blocks...
    let answer = ask(
        &mut c,
        peer,
        Request::SyncFrom {
            from_height: 1,
            blocks_max: 1,
        },
    )
    .await;
    assert!(matches!(answer, Ok(Response::Blocks(_))), "{answer:?}");

    // ...but not push consensus messages or catch-up blocks (refused undecoded, by who sent
    // them), let alone undecodable ones. Each costs it points; at the threshold it is
    // disconnected.
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS);
    let mut stream = open_push(&mut c, peer, &genesis_hash, PushLane::Consensus).await;
    for i in 0..hits {
        let junk = if i % 2 == 0 {
            Request::Consensus(vec![0xff; 40])
        } else {
            Request::CatchUp(vec![0xff; 1024 * 1024])
        };
        push(&mut stream, &junk).await;
    }
    wait_disconnected(&mut c, peer, &format!("{hits} invalid pushes")).await;
    // And refused while banned: a new request finds no connection that stays up.
    let again = ask(
        &mut c,
        peer,
        Request::SyncFrom {
            from_height: 1,
            blocks_max: 1,
        },
    )
    .await;
    assert!(again.is_err(), "a banned peer was answered: {again:?}");
    node.stop().await.unwrap();
}

/// Each way of breaking the push protocol ends the stream and costs the peer: a frame over the
/// limit (refused by its length, before anything is read), bytes that decode to no message, a
/// sync request pushed (it wants an answer), and a message on the other lane's stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_breaking_the_push_protocol_is_banned() {
    let (node, _chain, mut c, peer) = observer_dialled().await;
    let genesis_hash = node.chain.genesis().hash();
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS);
    assert_eq!(hits, 4, "one hit of each kind below bans");
    for i in 0..hits {
        match i {
            0 => {
                let mut stream = open_push(&mut c, peer, &genesis_hash, PushLane::Consensus).await;
                let over = (wire::REQUEST_BYTES_MAX as u32 + 1).to_be_bytes();
                write_raw(&mut stream, &over).await;
            }
            1 => {
                let mut stream =
                    open_push(&mut c, peer, &genesis_hash, PushLane::Transactions).await;
                write_raw(&mut stream, &[0, 0, 0, 2, 99, 0]).await;
            }
            2 => {
                let mut stream = open_push(&mut c, peer, &genesis_hash, PushLane::Consensus).await;
                let sync = Request::SyncFrom {
                    from_height: 1,
                    blocks_max: 1,
                };
                push(&mut stream, &sync).await;
            }
            _ => {
                // A batch of transactions on the consensus lane.
                let mut stream = open_push(&mut c, peer, &genesis_hash, PushLane::Consensus).await;
                push(&mut stream, &Request::Transactions(vec![])).await;
            }
        }
        // One stream at a time: a newer stream replaces the older (and its penalty) unread.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        while tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(50), c.select_next_some()).await;
        }
    }
    wait_disconnected(&mut c, peer, &format!("{hits} broken pushes")).await;
    node.stop().await.unwrap();
}

/// The other way round: a message that wants no answer, sent as a request, is answered `Ack`
/// and costs the sender, up to the ban.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_message_sent_as_a_request_is_banned() {
    let (node, _chain, mut c, peer) = observer_dialled().await;
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS);
    let first = ask(&mut c, peer, Request::Transactions(vec![])).await;
    assert!(matches!(first, Ok(Response::Ack)), "{first:?}");
    for _ in 1..hits {
        // Answered `Ack`, unless this is the hit that bans.
        let _ = ask(&mut c, peer, Request::Transactions(vec![])).await;
    }
    wait_disconnected(&mut c, peer, &format!("{hits} push messages as requests")).await;
    node.stop().await.unwrap();
}

/// An observer node whose genesis names this client as its one validator, started to dial the
/// client: the node, the client (listening) and the observer's peer id.
async fn observer_dialling_client() -> (RunningNode, Client, PeerId) {
    let chain = TestChain::new(Suite::Intl, 1);
    let validator = identity::Keypair::generate_ed25519();
    let validator_peer = validator.public().to_peer_id();
    let observer_net = identity::Keypair::generate_ed25519();
    let mut genesis = chain.genesis.clone();
    genesis.validators.validators[0].peer_id = validator_peer.to_bytes();
    genesis.observers = vec![Observer {
        name: "observer".into(),
        peer_id: observer_net.public().to_peer_id().to_bytes(),
    }];
    let mut c = client(validator, &genesis.hash());
    c.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let listen = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = c.select_next_some().await {
            break address.with_p2p(validator_peer).unwrap();
        }
    };
    let mut options =
        NodeOptions::observer(DataDir::Memory, genesis, "127.0.0.1:0".parse().unwrap());
    options.network = Some(NetworkOptions {
        keypair: observer_net,
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        peers: vec![listen],
    });
    let node = start(options).await.unwrap();
    let observer = node.network.as_ref().unwrap().peer_id;
    (node, c, observer)
}

/// Answers the next sync request `client` receives within 100 ms with `answer`; true if one
/// came. Sets `closed` when the connection to `observer` closes.
async fn answer_next_sync(
    client: &mut Client,
    observer: PeerId,
    answer: Response,
    closed: &mut bool,
) -> bool {
    let Ok(event) =
        tokio::time::timeout(Duration::from_millis(100), client.select_next_some()).await
    else {
        return false;
    };
    match event {
        SwarmEvent::Behaviour(ClientBehaviourEvent::Wire(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        })) => {
            let _ = client.behaviour_mut().wire.send_response(channel, answer);
            matches!(request, Request::SyncFrom { .. })
        }
        SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == observer => {
            *closed = !client.is_connected(&observer);
            false
        }
        _ => false,
    }
}

/// A hostile validator that answers every sync request with `Ack` (no blocks): the observer
/// asking it must neither wait for blocks forever (a request left in flight would stop it from
/// ever asking again) nor keep asking a peer that breaks the protocol: it asks again, counts
/// each such answer against the peer, and disconnects it at the ban threshold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_answering_sync_without_blocks_is_asked_again_then_banned() {
    let (node, mut c, observer) = observer_dialling_client().await;
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS) as usize;
    let mut sync_requests = 0;
    let mut closed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !(closed && sync_requests >= hits) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {sync_requests} sync requests answered without blocks the observer neither \
             asked again nor disconnected"
        );
        if answer_next_sync(&mut c, observer, Response::Ack, &mut closed).await {
            sync_requests += 1;
        }
    }
    assert_eq!(sync_requests, hits, "asked again after the ban threshold");
    node.stop().await.unwrap();
}

/// A validator too busy to answer (`Busy`: it is reading as many sync answers as it will) is
/// honest: the observer asks it again, and never counts it against the peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_validator_is_asked_again_and_not_penalised() {
    let (node, mut c, observer) = observer_dialling_client().await;
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS) as usize;
    let mut sync_requests = 0;
    let mut closed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sync_requests < 2 * hits + 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {sync_requests} busy answers the observer stopped asking"
        );
        assert!(!closed, "disconnected after {sync_requests} busy answers");
        if answer_next_sync(&mut c, observer, Response::Busy, &mut closed).await {
            sync_requests += 1;
        }
    }
    assert!(c.is_connected(&observer));
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_not_listed_is_refused() {
    let listed = identity::Keypair::generate_ed25519();
    let (node, _chain) = node_with_observer(Suite::Intl, &listed.public().to_peer_id()).await;
    let stranger = identity::Keypair::generate_ed25519();
    let mut c = client(stranger, &node.chain.genesis().hash());
    let peer = node.network.as_ref().unwrap().peer_id;
    c.dial(node_address(&node)).unwrap();
    let answer = ask(
        &mut c,
        peer,
        Request::SyncFrom {
            from_height: 1,
            blocks_max: 1,
        },
    )
    .await;
    assert!(answer.is_err(), "a stranger was answered: {answer:?}");
    assert_eq!(node.status.snapshot().peers, 0);
    node.stop().await.unwrap();
}

/// Who may sign depends on the state, and a forwarding peer may be a block ahead or behind (a
/// submitter registered or suspended in between): transactions the rules refuse at this node's
/// height cost the forwarder nothing, however many; a transaction badly signed (wrong at any
/// height) still does, up to the ban.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_transactions_refused_by_the_rules_cost_nothing_bad_signatures_do() {
    let (node, chain, mut c, peer) = observer_dialled().await;
    // An issue in agency-a's name signed by agency-b: a good signature, refused by the rules.
    let tx = |i: u64| issue(&chain, &format!("FORWARDED-{i}"), i, "agency-b");
    let genesis_hash = node.chain.genesis().hash();
    let mut stream = open_push(&mut c, peer, &genesis_hash, PushLane::Transactions).await;
    let hits = BAN_THRESHOLD_POINTS.div_ceil(PENALTY_INVALID_POINTS) as u64;
    // One batch at a time, each pushed once the one before was checked (a peer's share of the
    // relay queue is small: a burst would be partly dropped unchecked).
    let checked_before = node.admission.relay_checked_total();
    for i in 0..2 * hits {
        push(&mut stream, &Request::Transactions(vec![tx(i)])).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while node.admission.relay_checked_total() < checked_before + i + 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "forwarded batch {i} never checked"
            );
            let _ = tokio::time::timeout(Duration::from_millis(20), c.select_next_some()).await;
        }
    }
    // None was admitted, and the peer is still welcome.
    assert!(node.admission.mempool().unwrap().is_empty());
    assert!(
        c.is_connected(&peer),
        "penalised for transactions the rules refuse here"
    );

    // The same transaction with its signature broken: wrong at any height.
    let mut broken = tx(1_000);
    let last = broken.len() - 1;
    broken[last] ^= 1;
    for _ in 0..hits {
        push(&mut stream, &Request::Transactions(vec![broken.clone()])).await;
        let _ = tokio::time::timeout(Duration::from_millis(50), c.select_next_some()).await;
    }
    wait_disconnected(
        &mut c,
        peer,
        &format!("{hits} badly signed forwarded transactions"),
    )
    .await;
    node.stop().await.unwrap();
}

/// While the validators are behind on checking forwarded transactions, a node refuses new ones
/// from clients (503 `overloaded`) instead of letting the checks pile onto the consensus path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_backlog_turns_clients_away_until_it_drains() {
    use lichen_node::runtime::{RELAY_BACKLOG_ADMIT_MAX, SubmitError};

    let me = identity::Keypair::generate_ed25519();
    let (node, chain) = node_with_observer(Suite::Intl, &me.public().to_peer_id()).await;
    let tx = |i: u64| issue(&chain, &format!("BACKLOG-{i}"), i, "agency-a");
    for _ in 0..RELAY_BACKLOG_ADMIT_MAX {
        node.admission.relay_queued();
    }
    let refused = node.admission.submit(&tx(1), false);
    assert!(
        matches!(refused, Err(SubmitError::Overloaded { backlog }) if backlog == RELAY_BACKLOG_ADMIT_MAX),
        "{refused:?}"
    );
    let url = format!("http://{}", node.http_addr);
    let bytes = tx(2);
    let answer = tokio::task::spawn_blocking(move || {
        lichen_client::Client::new(&url).post_bytes("/v1/transactions", &bytes)
    })
    .await
    .unwrap();
    match answer {
        Err(lichen_client::ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (503, "overloaded"));
        }
        other => panic!("expected 503 overloaded: {other:?}"),
    }
    for _ in 0..RELAY_BACKLOG_ADMIT_MAX {
        node.admission.relay_checked();
    }
    assert!(node.admission.submit(&tx(3), false).is_ok());
    node.stop().await.unwrap();
}
