//! Regression tests for bugs found in review: each failed before its fix in core.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{GENESIS, Net, PARAMS, deliver, executed, fresh, hash, step};
use lichen_consensus::{Effect, FUTURE_MESSAGES_MAX, Input, Message, PersistedState};
use lichen_contracts::block::VoteKind;
use lichen_contracts::crypto::Hash32;

/// Bug A: a core that saw a commit quorum for a block it does not have asks for it once; if that
/// request is lost it never asks again, and its timers stop: the height never ends for it.
#[test]
fn a_core_that_decided_without_the_block_asks_again_after_a_lost_request() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    // The proposal never reaches validator 0; the commits do.
    assert_eq!(deliver(&mut core, net.commit(1, 1, 0, hx)), vec![]);
    assert_eq!(deliver(&mut core, net.commit(2, 1, 0, hx)), vec![]);
    assert_eq!(
        deliver(&mut core, net.commit(3, 1, 0, hx)),
        vec![Effect::RequestSync { from_height: 1 }]
    );
    // That request is lost. The view's timer fires: the core must ask again (and keep a timer).
    let effects = step(&mut core, Input::Timeout { height: 1, view: 0 });
    assert!(
        effects.contains(&Effect::RequestSync { from_height: 1 }),
        "the core gave up on height 1: {effects:?}"
    );
}

/// Bug B: after a restart the core neither re-sends nor counts the prepare it persisted, so its
/// own vote is missing from its tally: with one validator down it can never become prepared.
#[test]
fn a_restarted_core_counts_the_prepare_it_persisted() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let persisted = PersistedState {
        prepare_voted: Some(hx),
        ..fresh(1, 0)
    };
    let mut core = net.core_with(0, net.tip(), Some(persisted), PARAMS);
    let mut effects = step(&mut core, Input::Start);
    effects.extend(deliver(&mut core, net.proposal(1, 0, &x, vec![])));
    effects.extend(executed(&mut core, &net, &x));
    effects.extend(deliver(&mut core, net.prepare(1, 1, 0, hx)));
    // Its own prepare, 1's and 2's are a quorum (validator 3 is down): it must commit.
    effects.extend(deliver(&mut core, net.prepare(2, 1, 0, hx)));
    assert!(
        effects.contains(&Effect::Broadcast(net.commit(0, 1, 0, hx))),
        "no commit: {effects:#?}"
    );
}

/// Bug C: messages for the next heights are buffered before any signature check, so anyone who
/// can reach the node fills the buffer with junk and the real next proposal is dropped.
#[test]
fn junk_for_the_next_height_does_not_crowd_out_the_real_proposal() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let next = net.block(2, 0, hx);
    let Message::Vote(mut junk) = net.prepare(1, 2, 0, Hash32([5; 32])) else {
        unreachable!()
    };
    junk.signature = net
        .signed_vote(VoteKind::Prepare, 3, 2, 0, Hash32([5; 32]))
        .signature; // not 1's signature
    for _ in 0..FUTURE_MESSAGES_MAX {
        deliver(&mut core, Message::Vote(junk.clone()));
    }
    deliver(&mut core, net.proposal(2, 0, &next, vec![]));
    step(
        &mut core,
        Input::Synced {
            block: x.clone(),
            certificate: net.commit_cert(1, 0, hx, &[1, 2, 3]),
        },
    );
    let effects = executed(&mut core, &net, &x);
    assert!(
        effects.contains(&Effect::Execute { block: next }),
        "the height-2 proposal was dropped; {} effects, last {:?}",
        effects.len(),
        effects.last()
    );
}

/// Nit D: a core's own old message, relayed back, makes it "help" itself.
#[test]
fn a_core_does_not_help_itself() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let mut core = net.core_with(0, net.tip_at(1, hx), None, PARAMS);
    assert_eq!(deliver(&mut core, net.prepare(0, 1, 0, hx)), vec![]);
}

/// Nit E: the timeout's repeated sync request is booked under the view being left, so the next
/// message from ahead asks a third time right away.
#[test]
fn sync_is_asked_once_per_view_around_a_timeout() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let later = Hash32([0x42; 32]);
    deliver(&mut core, net.prepare(1, 2, 0, later));
    let effects = step(&mut core, Input::Timeout { height: 1, view: 0 });
    assert_eq!(effects[0], Effect::RequestSync { from_height: 1 });
    assert_eq!(deliver(&mut core, net.prepare(2, 2, 0, later)), vec![]);
}
