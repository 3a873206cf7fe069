//! `PersistedState` and `Message` survive their canonical bytes, and `Message::from_wire` refuses
//! anything that is not exactly one message of at most `MESSAGE_BYTES_MAX` bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{GENESIS, Net, fresh, hash};
use lichen_consensus::{MESSAGE_BYTES_MAX, Message, PersistedState, ViewChange};
use lichen_contracts::block::{BLOCK_BYTES_LIMIT, BLOCK_TXS_LIMIT, IndexedSignature};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::Hash32;
use lichen_contracts::error::CodecError;
use lichen_contracts::model::VALIDATORS_MAX;

/// One of each message, including a view-1 proposal justified by view changes, one of them
/// carrying a prepared certificate and its block.
fn messages(net: &Net) -> Vec<Message> {
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let pc = net.prepared_cert(1, 0, hx, &[0, 1, 2]);
    let vc0 = net.view_change(0, 1, 1, Some((pc, x.clone())));
    let justification = vec![
        vc0.without_block(),
        net.view_change(1, 1, 1, None),
        net.view_change(3, 1, 1, None),
    ];
    vec![
        net.prepare(2, 1, 0, hx),
        net.commit(3, 1, 4, hx),
        net.vc_message(&net.view_change(1, 1, 2, None)),
        net.vc_message(&vc0),
        net.proposal(1, 0, &x, vec![]),
        net.proposal(2, 1, &x, justification),
    ]
}

#[test]
fn persisted_state_round_trips() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let full = PersistedState {
        height: 1,
        view: 3,
        view_changing: true,
        proposed: Some(Hash32([1; 32])),
        prepare_voted: Some(hx),
        commit_voted: Some(Hash32([2; 32])),
        prepared: Some((net.prepared_cert(1, 0, hx, &[0, 1, 3]), x)),
    };
    for state in [fresh(1, 0), fresh(u64::MAX, u64::MAX), full] {
        let bytes = state.to_bytes();
        assert_eq!(PersistedState::from_bytes(&bytes), Ok(state));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            PersistedState::from_bytes(&longer),
            Err(CodecError::TrailingBytes { count: 1 })
        );
        assert!(matches!(
            PersistedState::from_bytes(&bytes[..bytes.len() - 1]),
            Err(CodecError::UnexpectedEnd { .. })
        ));
    }
    // The flag and option bytes are strict.
    let mut bytes = fresh(1, 0).to_bytes();
    bytes[16] = 2;
    assert_eq!(
        PersistedState::from_bytes(&bytes),
        Err(CodecError::InvalidBool { value: 2 })
    );
}

#[test]
fn messages_round_trip_through_the_wire() {
    let net = Net::new();
    for (message, tag) in messages(&net).into_iter().zip([2, 2, 3, 3, 1, 1]) {
        let bytes = message.to_bytes();
        assert_eq!(bytes[0], tag);
        assert_eq!(Message::from_wire(&bytes), Ok(message.clone()));
        assert_eq!(Message::from_bytes(&bytes), Ok(message));
    }
}

#[test]
fn from_wire_refuses_oversized_input_before_parsing() {
    let bytes = vec![2u8; MESSAGE_BYTES_MAX + 1];
    assert_eq!(
        Message::from_wire(&bytes),
        Err(CodecError::TooLong {
            field: "consensus message",
            len: MESSAGE_BYTES_MAX + 1,
            max: MESSAGE_BYTES_MAX,
        })
    );
}

#[test]
fn from_wire_refuses_truncated_and_trailing_bytes() {
    let net = Net::new();
    for message in messages(&net) {
        let bytes = message.to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    Message::from_wire(&bytes[..cut]),
                    Err(CodecError::UnexpectedEnd { .. })
                ),
                "a {cut}-byte prefix of a {}-byte message decoded",
                bytes.len()
            );
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            Message::from_wire(&longer),
            Err(CodecError::TrailingBytes { count: 3 })
        );
    }
}

#[test]
fn from_wire_refuses_an_unknown_message_tag() {
    let net = Net::new();
    let mut bytes = net.prepare(0, 1, 0, Hash32::ZERO).to_bytes();
    for tag in [0, 4, 0xff] {
        bytes[0] = tag;
        assert_eq!(
            Message::from_wire(&bytes),
            Err(CodecError::InvalidTag {
                what: "consensus message",
                tag
            })
        );
    }
}

#[test]
fn a_view_change_with_a_block_and_no_certificate_does_not_decode() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let mut vc = net.view_change(1, 1, 1, None);
    vc.block = Some(x);
    assert_eq!(
        Message::from_wire(&net.vc_message(&vc).to_bytes()),
        Err(CodecError::InvalidValue {
            field: "view change",
            reason: "a block without a prepared certificate",
        })
    );
}

/// With 128 validators a proposal's justification is 86 view changes, each with a certificate
/// of 86 signatures; without their blocks they leave room for one block of the largest size a
/// chain may set (with every transaction's length prefix). With blocks, three view changes of
/// 8 MiB blocks alone would pass the limit.
#[test]
fn a_justified_proposal_has_room_for_the_largest_block() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let quorum = VALIDATORS_MAX - (VALIDATORS_MAX - 1) / 3;
    let mut pc = net.prepared_cert(1, 0, hx, &[0, 1, 2]);
    let signature = pc.prepares[0].signature;
    pc.prepares = (0..quorum as u16)
        .map(|index| IndexedSignature { index, signature })
        .collect();
    let justification: Vec<ViewChange> = (0..quorum as u16)
        .map(|voter| {
            let mut vc = net.view_change(0, 1, 1, Some((pc.clone(), x.clone())));
            vc.voter = voter;
            vc.without_block()
        })
        .collect();
    let proposal = net.proposal(2, 1, &x, justification).to_bytes();
    let empty_block = x.to_bytes().len();
    let largest_block = BLOCK_BYTES_LIMIT as usize + BLOCK_TXS_LIMIT * 4 + empty_block;
    assert!(
        proposal.len() - empty_block + largest_block <= MESSAGE_BYTES_MAX,
        "justification {} bytes, largest block {largest_block}",
        proposal.len() - empty_block
    );
    assert!(3 * BLOCK_BYTES_LIMIT as usize > MESSAGE_BYTES_MAX);
}
