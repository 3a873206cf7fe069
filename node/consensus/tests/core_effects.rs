//! The consensus core's main transitions, each checked against the exact list of effects it must
//! produce, with four validators (f = 1, quorum 3). Every step goes through `common::step`, which
//! also checks that each vote or proposal leaves only after a `Persist` recording it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;

use common::{
    CHAIN, GENESIS, GENESIS_HASH, Net, PARAMS, SUITE, check_persist_before_send, deliver, executed,
    fresh, has_broadcast, hash, position, step, timer,
};
use lichen_consensus::{
    ConsensusError, Core, Effect, Evidence, Input, Message, PROPOSAL_COPIES_PER_VIEW_MAX,
    PersistedState, VIEW_WINDOW, ViewChange,
};
use lichen_contracts::block::{Block, CommitCertificate, VoteKind};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Hash32;
use lichen_contracts::model::ChainParams;

// ------------------------------------------------------------------------------- fixtures

/// The state a core persists once it has sent its view change for `view`.
fn view_changing(height: u64, view: u64) -> PersistedState {
    PersistedState {
        view_changing: true,
        ..fresh(height, view)
    }
}

/// Validator 0, a replica at height 1, that accepted and executed the leader's block X and sent
/// its prepare for it.
fn replica_that_prepared(net: &Net) -> (Core, Block) {
    let mut core = net.core(0);
    let x = net.block(1, 0, GENESIS);
    assert_eq!(step(&mut core, Input::Start), vec![timer(1, 0)]);
    assert_eq!(
        deliver(&mut core, net.proposal(1, 0, &x, vec![])),
        vec![Effect::Execute { block: x.clone() }]
    );
    assert_eq!(
        executed(&mut core, net, &x),
        vec![
            Effect::Persist(PersistedState {
                prepare_voted: Some(hash(&x)),
                ..fresh(1, 0)
            }),
            Effect::Broadcast(net.prepare(0, 1, 0, hash(&x))),
        ]
    );
    (core, x)
}

/// `core` (validator 0, prepared-voted X in view 0) has counted no prepare but its own: it needs
/// both 2 and 3 before it commits.
fn assert_needs_two_more_prepares(core: &mut Core, net: &Net, x: &Block) {
    let hx = hash(x);
    assert_eq!(deliver(core, net.prepare(2, 1, 0, hx)), vec![]);
    assert_eq!(
        deliver(core, net.prepare(3, 1, 0, hx)),
        vec![
            Effect::Persist(PersistedState {
                prepare_voted: Some(hx),
                commit_voted: Some(hx),
                prepared: Some((net.prepared_cert(1, 0, hx, &[0, 2, 3]), x.clone())),
                ..fresh(1, 0)
            }),
            Effect::Broadcast(net.commit(0, 1, 0, hx)),
        ]
    );
}

/// Delivers a message that must be refused with `error`, and checks nothing changed.
fn assert_refused(core: &mut Core, message: Message, error: ConsensusError) {
    let before = core.persisted_state();
    let position = (core.height(), core.view());
    assert_eq!(deliver(core, message), vec![Effect::Ignored { error }]);
    assert_eq!(core.persisted_state(), before);
    assert_eq!((core.height(), core.view()), position);
}

// ------------------------------------------------------------------------------- happy paths

#[test]
fn leader_proposes_prepares_commits_and_moves_to_height_2() {
    let net = Net::new();
    let me = net.leader(1, 0);
    assert_eq!(me, 1);
    assert_ne!(net.leader(2, 0), me, "this core must not lead height 2");
    let mut core = net.core(me);

    assert_eq!(
        step(&mut core, Input::Start),
        vec![timer(1, 0), Effect::BuildProposal { height: 1, view: 0 }]
    );

    let block = net.block(1, 0, GENESIS);
    let h = hash(&block);
    let proposed = PersistedState {
        proposed: Some(h),
        ..fresh(1, 0)
    };
    assert_eq!(
        step(
            &mut core,
            Input::ProposalReady {
                block: block.clone()
            }
        ),
        vec![
            Effect::Persist(proposed.clone()),
            Effect::Broadcast(net.proposal(me, 0, &block, vec![])),
            Effect::Execute {
                block: block.clone()
            },
        ]
    );

    let prepare_voted = PersistedState {
        prepare_voted: Some(h),
        ..proposed
    };
    assert_eq!(
        executed(&mut core, &net, &block),
        vec![
            Effect::Persist(prepare_voted.clone()),
            Effect::Broadcast(net.prepare(me, 1, 0, h)),
        ]
    );

    assert_eq!(deliver(&mut core, net.prepare(2, 1, 0, h)), vec![]);
    let commit_voted = PersistedState {
        commit_voted: Some(h),
        prepared: Some((net.prepared_cert(1, 0, h, &[1, 2, 3]), block.clone())),
        ..prepare_voted
    };
    assert_eq!(
        deliver(&mut core, net.prepare(3, 1, 0, h)),
        vec![
            Effect::Persist(commit_voted),
            Effect::Broadcast(net.commit(me, 1, 0, h)),
        ]
    );

    assert_eq!(deliver(&mut core, net.commit(0, 1, 0, h)), vec![]);
    let certificate = net.commit_cert(1, 0, h, &[0, 1, 2]);
    assert_eq!(
        deliver(&mut core, net.commit(2, 1, 0, h)),
        vec![
            Effect::Commit {
                block: block.clone(),
                certificate: certificate.clone(),
            },
            Effect::Persist(fresh(2, 0)),
            timer(2, 0),
        ]
    );
    certificate
        .verify(SUITE, CHAIN, &GENESIS_HASH, &block.header, &net.set)
        .unwrap();
    assert_eq!((core.height(), core.view()), (2, 0));
    // Late votes for the decided height only earn the sender help, once.
    assert_eq!(
        deliver(&mut core, net.commit(3, 1, 0, h)),
        vec![Effect::HelpCatchUp {
            validator: 3,
            from_height: 1
        }]
    );
}

#[test]
fn replica_executes_votes_commits_and_leads_height_2() {
    let net = Net::new();
    let leader = net.leader(1, 0);
    let me = net.leader(2, 0);
    assert_eq!((leader, me), (1, 2));
    let mut core = net.core(me);

    assert_eq!(step(&mut core, Input::Start), vec![timer(1, 0)]);

    let block = net.block(1, 0, GENESIS);
    let h = hash(&block);
    assert_eq!(
        deliver(&mut core, net.proposal(leader, 0, &block, vec![])),
        vec![Effect::Execute {
            block: block.clone()
        }]
    );

    let prepare_voted = PersistedState {
        prepare_voted: Some(h),
        ..fresh(1, 0)
    };
    assert_eq!(
        executed(&mut core, &net, &block),
        vec![
            Effect::Persist(prepare_voted.clone()),
            Effect::Broadcast(net.prepare(me, 1, 0, h)),
        ]
    );

    assert_eq!(deliver(&mut core, net.prepare(leader, 1, 0, h)), vec![]);
    assert_eq!(
        deliver(&mut core, net.prepare(3, 1, 0, h)),
        vec![
            Effect::Persist(PersistedState {
                commit_voted: Some(h),
                prepared: Some((net.prepared_cert(1, 0, h, &[1, 2, 3]), block.clone())),
                ..prepare_voted
            }),
            Effect::Broadcast(net.commit(me, 1, 0, h)),
        ]
    );
    // A fourth prepare changes nothing.
    assert_eq!(deliver(&mut core, net.prepare(0, 1, 0, h)), vec![]);

    assert_eq!(deliver(&mut core, net.commit(leader, 1, 0, h)), vec![]);
    let certificate = net.commit_cert(1, 0, h, &[0, 1, 2]);
    assert_eq!(
        deliver(&mut core, net.commit(0, 1, 0, h)),
        vec![
            Effect::Commit {
                block: block.clone(),
                certificate: certificate.clone(),
            },
            Effect::Persist(fresh(2, 0)),
            timer(2, 0),
            Effect::BuildProposal { height: 2, view: 0 },
        ]
    );
    certificate
        .verify(SUITE, CHAIN, &GENESIS_HASH, &block.header, &net.set)
        .unwrap();
}

#[test]
fn votes_that_arrive_before_the_block_is_executed_are_counted_once_it_is() {
    let net = Net::new();
    let me = 3;
    let mut core = net.core(me);
    assert_eq!(step(&mut core, Input::Start), vec![timer(1, 0)]);

    let block = net.block(1, 0, GENESIS);
    let h = hash(&block);
    // One prepare even before the proposal.
    assert_eq!(deliver(&mut core, net.prepare(1, 1, 0, h)), vec![]);
    assert_eq!(
        deliver(&mut core, net.proposal(1, 0, &block, vec![])),
        vec![Effect::Execute {
            block: block.clone()
        }]
    );
    for message in [
        net.prepare(2, 1, 0, h),
        net.commit(1, 1, 0, h),
        net.commit(2, 1, 0, h),
    ] {
        assert_eq!(deliver(&mut core, message), vec![]);
    }

    let prepare_voted = PersistedState {
        prepare_voted: Some(h),
        ..fresh(1, 0)
    };
    let commit_voted = PersistedState {
        commit_voted: Some(h),
        prepared: Some((net.prepared_cert(1, 0, h, &[1, 2, 3]), block.clone())),
        ..prepare_voted.clone()
    };
    let certificate = net.commit_cert(1, 0, h, &[1, 2, 3]);
    let effects = executed(&mut core, &net, &block);
    assert_eq!(
        effects,
        vec![
            Effect::Persist(prepare_voted),
            Effect::Broadcast(net.prepare(me, 1, 0, h)),
            Effect::Persist(commit_voted),
            Effect::Broadcast(net.commit(me, 1, 0, h)),
            Effect::Commit {
                block: block.clone(),
                certificate: certificate.clone(),
            },
            Effect::Persist(fresh(2, 0)),
            timer(2, 0),
        ]
    );
    certificate
        .verify(SUITE, CHAIN, &GENESIS_HASH, &block.header, &net.set)
        .unwrap();
}

#[test]
fn every_vote_is_persisted_before_it_is_broadcast() {
    let net = Net::new();
    let mut core = net.core(3);
    step(&mut core, Input::Start);
    let block = net.block(1, 0, GENESIS);
    let h = hash(&block);
    deliver(&mut core, net.proposal(1, 0, &block, vec![]));
    deliver(&mut core, net.prepare(1, 1, 0, h));
    deliver(&mut core, net.prepare(2, 1, 0, h));
    let effects = executed(&mut core, &net, &block);

    for kind in [VoteKind::Prepare, VoteKind::Commit] {
        let sent = position(
            &effects,
            |e| matches!(e, Effect::Broadcast(Message::Vote(v)) if v.vote.kind == kind),
        );
        let persisted = position(&effects, |e| match (e, kind) {
            (Effect::Persist(s), VoteKind::Prepare) => s.prepare_voted == Some(h),
            (Effect::Persist(s), VoteKind::Commit) => s.commit_voted == Some(h),
            _ => false,
        });
        assert!(persisted < sent, "{kind:?} sent before it was persisted");
        assert_eq!(persisted + 1, sent);
    }
}

/// Four cores, every message delivered to every other core in FIFO order, every block valid:
/// all commit the same two blocks with certificates that verify, and every effect list obeys the
/// persist-before-send rule (checked by `step`).
#[test]
fn four_cores_commit_the_same_two_blocks() {
    let net = Net::new();
    let n = usize::from(net.n());
    let mut cores: Vec<Core> = (0..net.n()).map(|i| net.core(i)).collect();
    let mut tips = vec![GENESIS; n];
    let mut committed: Vec<Vec<(Block, CommitCertificate)>> = vec![Vec::new(); n];
    let mut queue: VecDeque<(usize, Input)> = (0..n).map(|i| (i, Input::Start)).collect();
    let mut steps = 0;
    while committed.iter().any(|c| c.len() < 2) {
        let (i, input) = queue.pop_front().expect("the network went quiet");
        steps += 1;
        assert!(steps < 10_000, "no progress");
        for effect in step(&mut cores[i], input) {
            match effect {
                Effect::Broadcast(m) => {
                    for j in (0..n).filter(|&j| j != i) {
                        queue.push_back((j, Input::Message(m.clone())));
                    }
                }
                Effect::Execute { block } => queue.push_back((
                    i,
                    Input::Executed {
                        block_hash: hash(&block),
                        outcome: Ok(net.set.clone()),
                    },
                )),
                Effect::BuildProposal { height, view } => queue.push_back((
                    i,
                    Input::ProposalReady {
                        block: net.block(height, view, tips[i]),
                    },
                )),
                Effect::Commit { block, certificate } => {
                    certificate
                        .verify(SUITE, CHAIN, &GENESIS_HASH, &block.header, &net.set)
                        .unwrap();
                    tips[i] = hash(&block);
                    committed[i].push((block, certificate));
                }
                Effect::Persist(_)
                | Effect::ScheduleTimer { .. }
                | Effect::RequestSync { .. }
                | Effect::HelpCatchUp { .. } => {}
                other => panic!("unexpected effect {other:?}"),
            }
        }
    }
    for c in &committed {
        assert_eq!(c[0].0, committed[0][0].0);
        assert_eq!(c[1].0, committed[0][1].0);
        assert_eq!(c[1].0.header.previous_hash, hash(&c[0].0));
    }
}

// ------------------------------------------------------------------------------- view changes

#[test]
fn a_timeout_starts_a_view_change() {
    let net = Net::new();
    let mut core = net.core(0);
    assert_eq!(step(&mut core, Input::Start), vec![timer(1, 0)]);
    let effects = step(&mut core, Input::Timeout { height: 1, view: 0 });
    assert_eq!(
        effects,
        vec![
            Effect::Persist(view_changing(1, 1)),
            Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 1, None))),
            Effect::ScheduleTimer {
                height: 1,
                view: 1,
                after_ms: 2_000
            },
        ]
    );
    // A timer of a view already left does nothing.
    assert_eq!(
        step(&mut core, Input::Timeout { height: 1, view: 0 }),
        vec![]
    );
}

#[test]
fn the_new_leader_builds_after_a_quorum_of_view_changes_and_proposes_with_them() {
    let net = Net::new();
    let me = net.leader(1, 1);
    assert_eq!(me, 2);
    let mut core = net.core(me);
    assert_eq!(step(&mut core, Input::Start), vec![timer(1, 0)]);

    let vc = |i| net.view_change(i, 1, 1, None);
    assert_eq!(
        step(&mut core, Input::Timeout { height: 1, view: 0 }),
        vec![
            Effect::Persist(view_changing(1, 1)),
            Effect::Broadcast(net.vc_message(&vc(me))),
            timer(1, 1),
        ]
    );
    assert_eq!(deliver(&mut core, net.vc_message(&vc(0))), vec![]);
    assert_eq!(
        deliver(&mut core, net.vc_message(&vc(1))),
        vec![Effect::BuildProposal { height: 1, view: 1 }]
    );
    // A fourth view change does not ask again.
    assert_eq!(deliver(&mut core, net.vc_message(&vc(3))), vec![]);

    let block = net.block(1, 1, GENESIS);
    let h = hash(&block);
    let proposed = PersistedState {
        proposed: Some(h),
        ..fresh(1, 1)
    };
    assert_eq!(
        step(
            &mut core,
            Input::ProposalReady {
                block: block.clone()
            }
        ),
        vec![
            Effect::Persist(proposed.clone()),
            Effect::Broadcast(net.proposal(me, 1, &block, vec![vc(0), vc(1), vc(2)])),
            Effect::Execute {
                block: block.clone()
            },
        ]
    );
    assert_eq!(
        executed(&mut core, &net, &block),
        vec![
            Effect::Persist(PersistedState {
                prepare_voted: Some(h),
                ..proposed
            }),
            Effect::Broadcast(net.prepare(me, 1, 1, h)),
        ]
    );
}

#[test]
fn a_replica_enters_view_1_on_a_justified_proposal_and_votes_in_it() {
    let net = Net::new();
    let vc = |i| net.view_change(i, 1, 1, None);
    let block = net.block(1, 1, GENESIS);
    let h = hash(&block);
    let proposal = net.proposal(2, 1, &block, vec![vc(0), vc(1), vc(2)]);

    // Validator 3 never timed out: the proposal's quorum of view changes moves it.
    let mut core = net.core(3);
    step(&mut core, Input::Start);
    assert_eq!(
        deliver(&mut core, proposal.clone()),
        vec![
            Effect::Persist(fresh(1, 1)),
            timer(1, 1),
            Effect::Execute {
                block: block.clone()
            },
        ]
    );
    assert_eq!(
        executed(&mut core, &net, &block),
        vec![
            Effect::Persist(PersistedState {
                prepare_voted: Some(h),
                ..fresh(1, 1)
            }),
            Effect::Broadcast(net.prepare(3, 1, 1, h)),
        ]
    );

    // Validator 0 had sent its own view change for view 1: the proposal ends it.
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    step(&mut core, Input::Timeout { height: 1, view: 0 });
    assert_eq!(
        deliver(&mut core, proposal),
        vec![
            Effect::Persist(fresh(1, 1)),
            timer(1, 1),
            Effect::Execute {
                block: block.clone()
            },
        ]
    );
    assert!(!core.persisted_state().view_changing);
}

#[test]
fn a_prepared_block_survives_the_view_change() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);

    // Validator 0 becomes prepared on X in view 0, then times out.
    let (mut replica, _) = replica_that_prepared(&net);
    assert_eq!(deliver(&mut replica, net.prepare(1, 1, 0, hx)), vec![]);
    let pc = net.prepared_cert(1, 0, hx, &[0, 1, 2]);
    assert_eq!(
        deliver(&mut replica, net.prepare(2, 1, 0, hx)),
        vec![
            Effect::Persist(PersistedState {
                prepare_voted: Some(hx),
                commit_voted: Some(hx),
                prepared: Some((pc.clone(), x.clone())),
                ..fresh(1, 0)
            }),
            Effect::Broadcast(net.commit(0, 1, 0, hx)),
        ]
    );
    let vc0 = net.view_change(0, 1, 1, Some((pc.clone(), x.clone())));
    assert_eq!(
        step(&mut replica, Input::Timeout { height: 1, view: 0 }),
        vec![
            Effect::Persist(PersistedState {
                prepared: Some((pc, x.clone())),
                ..view_changing(1, 1)
            }),
            Effect::Broadcast(net.vc_message(&vc0)),
            timer(1, 1),
        ]
    );

    // The leader of view 1 never saw X; with vc0 in its quorum it must re-propose X, not build.
    let leader = net.leader(1, 1);
    let mut core = net.core(leader);
    step(&mut core, Input::Start);
    let vc1 = net.view_change(1, 1, 1, None);
    let vc2 = net.view_change(leader, 1, 1, None);
    assert_eq!(
        step(&mut core, Input::Timeout { height: 1, view: 0 }),
        vec![
            Effect::Persist(view_changing(1, 1)),
            Effect::Broadcast(net.vc_message(&vc2)),
            timer(1, 1),
        ]
    );
    // A view change with a prepared certificate but without its block is refused: the leader
    // must be able to re-propose the block.
    assert_refused(
        &mut core,
        net.vc_message(&vc0.without_block()),
        ConsensusError::BadCertificate {
            reason: "a view change with a prepared certificate carries no block",
        },
    );
    assert_eq!(deliver(&mut core, net.vc_message(&vc0)), vec![]);
    // The proposal carries X once: its justification's view changes leave their blocks out.
    let justification: Vec<ViewChange> = [&vc0, &vc1, &vc2]
        .into_iter()
        .map(ViewChange::without_block)
        .collect();
    let reproposal = net.proposal(leader, 1, &x, justification.clone());
    assert_eq!(
        deliver(&mut core, net.vc_message(&vc1)),
        vec![
            Effect::Persist(PersistedState {
                proposed: Some(hx),
                ..fresh(1, 1)
            }),
            Effect::Broadcast(reproposal.clone()),
            Effect::Execute { block: x.clone() },
        ]
    );

    // Another block with that justification is refused; X is taken.
    let mut other = net.core(3);
    step(&mut other, Input::Start);
    let y = net.block(1, 1, GENESIS);
    assert_refused(
        &mut other,
        net.proposal(leader, 1, &y, justification),
        ConsensusError::BadJustification {
            reason: "the proposal is not the block of the highest prepared certificate",
        },
    );
    // So is X with a justification whose view changes carry blocks (a larger message for nothing).
    assert_refused(
        &mut other,
        net.proposal(leader, 1, &x, vec![vc0, vc1, vc2]),
        ConsensusError::BadJustification {
            reason: "a view change in a justification carries a block",
        },
    );
    assert_eq!(
        deliver(&mut other, reproposal),
        vec![
            Effect::Persist(fresh(1, 1)),
            timer(1, 1),
            Effect::Execute { block: x },
        ]
    );
}

#[test]
fn one_validator_claiming_a_high_view_moves_nothing() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let before = core.persisted_state();
    for view in [100, 1 << 60, u64::MAX] {
        let effects = deliver(
            &mut core,
            net.vc_message(&net.view_change(1, 1, view, None)),
        );
        assert_eq!(effects, vec![]);
        assert!(!has_broadcast(&effects));
        assert_eq!(core.persisted_state(), before);
        assert_eq!(core.view(), 0);
    }
    // The core still works in view 0.
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn f_plus_one_validators_ahead_make_a_core_join_the_lower_of_their_views() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    assert_eq!(
        deliver(&mut core, net.vc_message(&net.view_change(1, 1, 100, None))),
        vec![]
    );
    // Validators 1 (view 100) and 2 (view 7) are both past view 7: at least one honest one is.
    assert_eq!(
        deliver(&mut core, net.vc_message(&net.view_change(2, 1, 7, None))),
        vec![
            Effect::Persist(view_changing(1, 7)),
            Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 7, None))),
            Effect::ScheduleTimer {
                height: 1,
                view: 7,
                after_ms: 8_000
            },
        ]
    );
    assert_eq!(core.view(), 7);
}

#[test]
fn the_next_leader_joins_on_f_plus_one_and_asks_for_a_block_in_the_same_step() {
    let net = Net::new();
    let me = net.leader(1, 1);
    let mut core = net.core(me);
    step(&mut core, Input::Start);
    assert_eq!(
        deliver(&mut core, net.vc_message(&net.view_change(0, 1, 1, None))),
        vec![]
    );
    assert_eq!(
        deliver(&mut core, net.vc_message(&net.view_change(1, 1, 1, None))),
        vec![
            Effect::Persist(view_changing(1, 1)),
            Effect::Broadcast(net.vc_message(&net.view_change(me, 1, 1, None))),
            timer(1, 1),
            Effect::BuildProposal { height: 1, view: 1 },
        ]
    );
}

#[test]
fn view_timeouts_grow_by_the_step_up_to_the_maximum() {
    let net = Net::new();
    let params = ChainParams {
        view_timeout_max_ms: 3_500,
        ..PARAMS
    };
    let mut core = net.core_with(0, net.tip(), None, params);
    assert_eq!(
        step(&mut core, Input::Start),
        vec![Effect::ScheduleTimer {
            height: 1,
            view: 0,
            after_ms: 1_000
        }]
    );
    // The cap: view 4 and beyond wait as long as view 3.
    assert_eq!(params.view_timeout_ms(4), 3_500);
    for (view, after_ms) in [(1, 2_000), (2, 3_000), (3, 3_500)] {
        assert_eq!(params.view_timeout_ms(view), after_ms);
        let timer = Effect::ScheduleTimer {
            height: 1,
            view,
            after_ms,
        };
        if view == 1 {
            // Its own timeout takes it from view 0 to view 1.
            assert_eq!(
                step(&mut core, Input::Timeout { height: 1, view: 0 }),
                vec![
                    Effect::Persist(view_changing(1, 1)),
                    Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 1, None))),
                    timer,
                ]
            );
        } else if view == 2 {
            // Alone in a view no quorum has reached, a timeout does not move it further (a
            // validator racing ahead alone could never be caught up); f + 1 validators vouching
            // for the next view do, and that view's timer is longer.
            let stay = step(
                &mut core,
                Input::Timeout {
                    height: 1,
                    view: view - 1,
                },
            );
            assert!(
                !stay.iter().any(|e| matches!(e, Effect::Persist(_))),
                "{stay:?}"
            );
            deliver(
                &mut core,
                net.vc_message(&net.view_change(1, 1, view, None)),
            );
            let effects = deliver(
                &mut core,
                net.vc_message(&net.view_change(2, 1, view, None)),
            );
            assert!(effects.contains(&timer), "view {view}: {effects:?}");
            assert_eq!(core.view(), view);
        } else {
            // Validators 1 and 2 reached view 2 too: with a quorum there, timeouts move on.
            assert_eq!(
                step(
                    &mut core,
                    Input::Timeout {
                        height: 1,
                        view: view - 1
                    }
                ),
                vec![
                    Effect::Persist(view_changing(1, view)),
                    Effect::Broadcast(net.vc_message(&net.view_change(0, 1, view, None))),
                    timer,
                ]
            );
        }
    }
}

// ------------------------------------------------------------------------------- catch-up

#[test]
fn a_message_for_a_higher_height_asks_for_blocks_once_per_view() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let later = Hash32([0x42; 32]);
    assert_eq!(
        deliver(&mut core, net.prepare(1, 2, 0, later)),
        vec![Effect::RequestSync { from_height: 1 }]
    );
    assert_eq!(deliver(&mut core, net.commit(3, 3, 0, later)), vec![]);
    assert_eq!(deliver(&mut core, net.prepare(2, 2, 0, later)), vec![]);
    // The view times out with messages from ahead waiting: ask again, the request may be lost.
    assert_eq!(
        step(&mut core, Input::Timeout { height: 1, view: 0 }),
        vec![
            Effect::RequestSync { from_height: 1 },
            Effect::Persist(view_changing(1, 1)),
            Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 1, None))),
            timer(1, 1),
        ]
    );
}

#[test]
fn a_synced_block_with_a_valid_certificate_is_executed_then_committed() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    // The height-2 proposal arrives first: buffered, and the core asks for height 1.
    let next = net.block(2, 0, hx);
    assert_eq!(
        deliver(&mut core, net.proposal(2, 0, &next, vec![])),
        vec![Effect::RequestSync { from_height: 1 }]
    );

    let certificate = net.commit_cert(1, 0, hx, &[1, 2, 3]);
    assert_eq!(
        step(
            &mut core,
            Input::Synced {
                block: x.clone(),
                certificate: certificate.clone()
            }
        ),
        vec![Effect::Execute { block: x.clone() }]
    );
    assert_eq!(
        executed(&mut core, &net, &x),
        vec![
            Effect::Commit {
                block: x,
                certificate
            },
            Effect::Persist(fresh(2, 0)),
            timer(2, 0),
            Effect::Execute { block: next },
        ]
    );
    assert_eq!(core.height(), 2);
}

#[test]
fn a_synced_block_with_an_invalid_certificate_is_ignored() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let mut forged = net.commit_cert(1, 0, hx, &[1, 2, 3]);
    forged.signatures[2].signature = net.commit_cert(1, 0, hx, &[0]).signatures[0].signature;
    let bad_certificates = [
        net.commit_cert(1, 0, hx, &[1, 2]),                 // no quorum
        net.commit_cert(1, 0, Hash32([1; 32]), &[1, 2, 3]), // another block
        net.commit_cert(1, 0, hx, &[2, 1, 3]),              // signers out of order
        forged,                                             // 3's signature is 0's
    ];
    let before = core.persisted_state();
    for certificate in bad_certificates {
        assert_eq!(
            step(
                &mut core,
                Input::Synced {
                    block: x.clone(),
                    certificate
                }
            ),
            vec![Effect::Ignored {
                error: ConsensusError::BadCertificate {
                    reason: "synced block's commit certificate does not verify"
                }
            }]
        );
    }
    // Nothing was asked to execute, so nothing commits.
    assert_eq!(executed(&mut core, &net, &x), vec![]);
    assert_eq!(core.height(), 1);
    assert_eq!(core.persisted_state(), before);
}

#[test]
fn a_validator_behind_is_helped_once_per_height() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    let mut core = net.core_with(0, net.tip_at(1, hx), None, PARAMS);
    assert_eq!(core.height(), 2);

    let help = |validator| Effect::HelpCatchUp {
        validator,
        from_height: 1,
    };
    assert_eq!(deliver(&mut core, net.prepare(3, 1, 0, hx)), vec![help(3)]);
    assert_eq!(deliver(&mut core, net.prepare(3, 1, 0, hx)), vec![]);
    assert_eq!(deliver(&mut core, net.commit(3, 1, 0, hx)), vec![]);
    assert_eq!(
        deliver(&mut core, net.vc_message(&net.view_change(3, 1, 2, None))),
        vec![]
    );
    assert_eq!(deliver(&mut core, net.commit(1, 1, 0, hx)), vec![help(1)]);

    // Unsigned noise earns nothing: a bad signature, an unknown index.
    let Message::Vote(mut forged) = net.prepare(2, 1, 0, hx) else {
        unreachable!()
    };
    forged.signature = net.signed_vote(VoteKind::Prepare, 3, 1, 0, hx).signature;
    assert_eq!(deliver(&mut core, Message::Vote(forged.clone())), vec![]);
    forged.voter = 9;
    assert_eq!(deliver(&mut core, Message::Vote(forged)), vec![]);
    // ...and 2 can still be helped once it sends a signed one.
    assert_eq!(deliver(&mut core, net.prepare(2, 1, 0, hx)), vec![help(2)]);
}

// ------------------------------------------------------------------------------- refusals

#[test]
fn a_vote_for_another_chain_is_refused_and_not_counted() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let Message::Vote(mut vote) = net.prepare(1, 1, 0, hash(&x)) else {
        unreachable!()
    };
    vote.vote.chain_id = "other-chain".into();
    vote.signature = net.key(1).sign(vote.vote.signing_hash(SUITE).as_bytes());
    assert_refused(
        &mut core,
        Message::Vote(vote),
        ConsensusError::WrongChain {
            chain_id: "other-chain".into(),
            genesis_hash: GENESIS_HASH,
        },
    );
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn a_vote_of_another_genesis_with_the_same_chain_id_and_keys_is_refused() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let Message::Vote(mut vote) = net.prepare(1, 1, 0, hash(&x)) else {
        unreachable!()
    };
    vote.vote.genesis_hash = Hash32([0x01; 32]);
    vote.signature = net.key(1).sign(vote.vote.signing_hash(SUITE).as_bytes());
    assert_refused(
        &mut core,
        Message::Vote(vote),
        ConsensusError::WrongChain {
            chain_id: CHAIN.into(),
            genesis_hash: Hash32([0x01; 32]),
        },
    );
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn a_vote_from_an_unknown_validator_index_is_refused() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let Message::Vote(mut vote) = net.prepare(1, 1, 0, hash(&x)) else {
        unreachable!()
    };
    vote.voter = net.n();
    assert_refused(
        &mut core,
        Message::Vote(vote),
        ConsensusError::UnknownValidator { index: net.n() },
    );
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn a_vote_with_a_bad_signature_is_refused_and_not_counted() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let Message::Vote(mut vote) = net.prepare(1, 1, 0, hash(&x)) else {
        unreachable!()
    };
    vote.signature = net.key(2).sign(vote.vote.signing_hash(SUITE).as_bytes());
    assert_refused(
        &mut core,
        Message::Vote(vote),
        ConsensusError::BadSignature { index: 1 },
    );
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn a_counted_vote_sent_again_is_refused_without_checking_its_signature() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let Message::Vote(vote) = net.prepare(1, 1, 0, hash(&x)) else {
        unreachable!()
    };
    // Counted once (one of the two more prepares needed).
    let effects = deliver(&mut core, Message::Vote(vote.clone()));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Ignored { .. })),
        "{effects:?}"
    );
    // The same vote again, even with a signature that would not verify: refused as a duplicate,
    // which shows the signature was never checked.
    let mut resent = vote.clone();
    resent.signature = net.key(2).sign(b"not this vote");
    assert_refused(
        &mut core,
        Message::Vote(resent),
        ConsensusError::DuplicateVote { voter: 1 },
    );
    // Another vote from the same voter is not a duplicate: its signature is checked.
    let Message::Vote(mut other) = net.prepare(1, 1, 0, Hash32([0xab; 32])) else {
        unreachable!()
    };
    other.signature = net.key(2).sign(other.vote.signing_hash(SUITE).as_bytes());
    assert_refused(
        &mut core,
        Message::Vote(other),
        ConsensusError::BadSignature { index: 1 },
    );
}

#[test]
fn a_vote_far_outside_the_view_window_is_refused() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let hx = hash(&x);
    assert_refused(
        &mut core,
        net.prepare(1, 1, VIEW_WINDOW + 1, hx),
        ConsensusError::OutOfWindow {
            height: 1,
            view: VIEW_WINDOW + 1,
        },
    );
    // The edge of the window is kept (and counts for nothing in view 0).
    assert_eq!(
        deliver(&mut core, net.prepare(1, 1, VIEW_WINDOW, hx)),
        vec![]
    );
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn a_proposal_not_from_the_leader_is_refused() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    assert_refused(
        &mut core,
        net.proposal(2, 0, &x, vec![]),
        ConsensusError::NotLeader {
            view: 0,
            leader: 1,
            found: 2,
        },
    );
    assert_eq!(
        deliver(&mut core, net.proposal(1, 0, &x, vec![])),
        vec![Effect::Execute { block: x }]
    );
}

#[test]
fn a_proposal_not_extending_the_tip_is_refused() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let stray = net.block(1, 0, Hash32([9; 32]));
    assert_refused(
        &mut core,
        net.proposal(1, 0, &stray, vec![]),
        ConsensusError::BadBlock {
            reason: "does not extend the last committed block",
        },
    );
    // Not recorded as the leader's proposal: the right one is no equivocation.
    let x = net.block(1, 0, GENESIS);
    assert_eq!(
        deliver(&mut core, net.proposal(1, 0, &x, vec![])),
        vec![Effect::Execute { block: x }]
    );
}

#[test]
fn a_view_0_proposal_with_a_justification_is_refused() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let vcs = (0..3).map(|i| net.view_change(i, 1, 1, None)).collect();
    assert_refused(
        &mut core,
        net.proposal(1, 0, &x, vcs),
        ConsensusError::BadJustification {
            reason: "a view-0 proposal carries no view changes",
        },
    );
    // Not recorded: the same block without the justification is accepted, not a duplicate.
    assert_eq!(
        deliver(&mut core, net.proposal(1, 0, &x, vec![])),
        vec![Effect::Execute { block: x }]
    );
}

// ------------------------------------------------------------------------------- equivocation

#[test]
fn two_prepares_from_one_validator_in_one_view_are_evidence_and_the_second_is_not_counted() {
    let net = Net::new();
    let (mut core, x) = replica_that_prepared(&net);
    let hx = hash(&x);
    let hy = Hash32([0x77; 32]);
    let first = net.signed_vote(VoteKind::Prepare, 1, 1, 0, hy);
    let second = net.signed_vote(VoteKind::Prepare, 1, 1, 0, hx);
    assert_eq!(deliver(&mut core, Message::Vote(first.clone())), vec![]);
    assert_eq!(
        deliver(&mut core, Message::Vote(second.clone())),
        vec![Effect::Equivocation(Evidence::ConflictingVotes {
            first,
            second
        })]
    );
    // The same vote again is no evidence, only a duplicate.
    assert_eq!(
        deliver(&mut core, net.prepare(1, 1, 0, hy)),
        vec![Effect::Ignored {
            error: ConsensusError::DuplicateVote { voter: 1 }
        }]
    );
    // A third, different vote is refused unchecked (a forged signature shows it is not
    // verified): the evidence is out, and each check would cost a verification.
    let mut third = net.signed_vote(VoteKind::Prepare, 1, 1, 0, Hash32([0x78; 32]));
    third.signature = net.signed_vote(VoteKind::Commit, 2, 1, 0, hx).signature;
    assert_refused(
        &mut core,
        Message::Vote(third),
        ConsensusError::KnownEquivocator { voter: 1 },
    );
    // 1's prepare for X was not counted: 0 still needs both 2 and 3.
    assert_needs_two_more_prepares(&mut core, &net, &x);
}

#[test]
fn two_proposals_from_the_leader_in_one_view_are_evidence() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let y = net.block_with_root(1, 0, GENESIS, 0x22);
    let (Message::Proposal(px), Message::Proposal(py)) = (
        net.proposal(1, 0, &x, vec![]),
        net.proposal(1, 0, &y, vec![]),
    ) else {
        unreachable!()
    };
    assert_eq!(
        deliver(&mut core, Message::Proposal(px.clone())),
        vec![Effect::Execute { block: x.clone() }]
    );
    assert_eq!(
        deliver(&mut core, Message::Proposal(py.clone())),
        vec![Effect::Equivocation(Evidence::ConflictingProposals {
            proposer: 1,
            height: 1,
            view: 0,
            first: (hash(&x), px.signature),
            second: (hash(&y), py.signature),
        })]
    );
    // The first proposal again is no evidence; Y was not taken.
    assert_eq!(deliver(&mut core, Message::Proposal(px)), vec![]);
    assert_eq!(
        step(
            &mut core,
            Input::Executed {
                block_hash: hash(&y),
                outcome: Ok(net.set.clone())
            }
        ),
        vec![]
    );
}

// ------------------------------------------------------------------------------- restart

#[test]
fn a_restarted_core_does_not_prepare_a_second_block_in_a_view() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let y = net.block_with_root(1, 0, GENESIS, 0x22);
    let persisted = PersistedState {
        prepare_voted: Some(hash(&x)),
        ..fresh(1, 0)
    };
    let mut core = net.core_with(0, net.tip(), Some(persisted.clone()), PARAMS);
    assert_eq!(core.persisted_state(), persisted);
    // On start it counts and re-sends the prepare it persisted (the same signed vote).
    assert_eq!(
        step(&mut core, Input::Start),
        vec![
            timer(1, 0),
            Effect::Persist(persisted.clone()),
            Effect::Broadcast(net.prepare(0, 1, 0, hash(&x))),
        ]
    );

    // The leader equivocates towards the restarted core: Y may be executed, never prepared.
    let mut effects = deliver(&mut core, net.proposal(1, 0, &y, vec![]));
    effects.extend(executed(&mut core, &net, &y));
    assert_eq!(effects, vec![Effect::Execute { block: y }]);
    assert!(!has_broadcast(&effects));
    assert_eq!(core.persisted_state(), persisted);
}

#[test]
fn a_restarted_core_that_was_changing_view_sends_its_view_change_again() {
    let net = Net::new();
    let persisted = view_changing(1, 1);
    let mut core = net.core_with(0, net.tip(), Some(persisted), PARAMS);
    assert_eq!(core.view(), 1);
    assert_eq!(
        step(&mut core, Input::Start),
        vec![
            timer(1, 1),
            Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 1, None))),
        ]
    );
}

#[test]
fn a_restarted_core_resends_its_view_change_with_the_persisted_prepared_certificate() {
    let net = Net::new();
    let x = net.block(1, 0, GENESIS);
    let pc = net.prepared_cert(1, 0, hash(&x), &[0, 1, 2]);
    let persisted = PersistedState {
        prepared: Some((pc.clone(), x.clone())),
        ..view_changing(1, 2)
    };
    let mut core = net.core_with(0, net.tip(), Some(persisted), PARAMS);
    let effects = step(&mut core, Input::Start);
    check_persist_before_send(&effects);
    assert_eq!(
        effects,
        vec![
            timer(1, 2),
            Effect::Broadcast(net.vc_message(&net.view_change(0, 1, 2, Some((pc, x))))),
        ]
    );
}

#[test]
fn persisted_state_for_another_height_is_not_restored() {
    let net = Net::new();
    let stale = PersistedState {
        prepare_voted: Some(Hash32([3; 32])),
        ..view_changing(5, 4)
    };
    let mut core = net.core_with(1, net.tip(), Some(stale), PARAMS);
    assert_eq!(core.persisted_state(), fresh(1, 0));
    assert_eq!(
        step(&mut core, Input::Start),
        vec![timer(1, 0), Effect::BuildProposal { height: 1, view: 0 }]
    );
}

// ------------------------------------------------------------------------------- the checker

/// The persist-before-send check in `common::step` is not vacuous: it catches the planted bug.
#[cfg(feature = "mutations")]
#[test]
#[should_panic(expected = "not preceded by a Persist")]
fn the_ordering_check_catches_a_vote_sent_before_it_is_persisted() {
    use lichen_consensus::{Config, Mutation};
    let net = Net::new();
    let config =
        Config::new(CHAIN, GENESIS_HASH, SUITE, PARAMS).with_mutation(Mutation::VoteBeforePersist);
    let mut core = Core::new(config, Box::new(net.key(0)), net.tip(), None);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    deliver(&mut core, net.proposal(1, 0, &x, vec![]));
    executed(&mut core, &net, &x);
}

// ------------------------------------------------------------------------------- future heights

/// Commits height 1 at replica 3 (leader 1 proposed `block`), after `before_commit` has run:
/// the effects of the commit, which replay what was buffered for height 2.
fn commit_height_1(
    net: &Net,
    core: &mut Core,
    before_commit: impl FnOnce(&mut Core, Hash32),
) -> Vec<Effect> {
    let block = net.block(1, 0, GENESIS);
    let h = hash(&block);
    deliver(core, net.proposal(1, 0, &block, vec![]));
    before_commit(core, h);
    for message in [
        net.prepare(1, 1, 0, h),
        net.prepare(2, 1, 0, h),
        net.commit(1, 1, 0, h),
        net.commit(2, 1, 0, h),
    ] {
        deliver(core, message);
    }
    let effects = executed(core, net, &block);
    assert_eq!(core.height(), 2, "{effects:?}");
    effects
}

#[test]
fn future_messages_not_kept_are_refused_unchecked() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let later = Hash32([0x42; 32]);
    // Held (it asks for blocks: someone is ahead) ...
    assert_eq!(
        deliver(&mut core, net.prepare(1, 2, 0, later)),
        vec![Effect::RequestSync { from_height: 1 }]
    );
    // ... so the same again is refused unchecked, as is one too far ahead: each a cheap
    // refusal, which the node counts against the sender only as a flood.
    for m in [net.prepare(1, 2, 0, later), net.prepare(1, 2 + 5, 0, later)] {
        assert_refused(
            &mut core,
            m,
            ConsensusError::FutureNotBuffered { signer: 1 },
        );
    }
    assert!(ConsensusError::FutureNotBuffered { signer: 1 }.is_cheap_refusal());
}

/// Faulty validators forge copies of the leader's proposal (the leader's index, their own
/// signatures) and send them first. The node decodes one proposal per peer and view, so each
/// forger gets one copy in; with ten validators (three faults tolerated) the core still takes
/// the leader's own proposal after the three forged ones (it decoded three in all before).
#[test]
fn a_forged_copy_from_each_faulty_validator_leaves_room_for_the_leaders_proposal() {
    let net = Net::with_validators(10);
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let leader = net.leader(1, 0);
    let signing =
        lichen_consensus::Proposal::signing_hash(SUITE, CHAIN, 1, 0, &x.header.hash(SUITE));
    let forgers: Vec<u16> = (1..net.n()).filter(|i| *i != leader).take(3).collect();
    assert_eq!(core.proposal_copies_max(), PROPOSAL_COPIES_PER_VIEW_MAX + 3);
    for forger in forgers {
        let Message::Proposal(mut forged) = net.proposal(leader, 0, &x, vec![]) else {
            unreachable!()
        };
        forged.signature = net.key(forger).sign(signing.as_bytes());
        let effects = deliver(&mut core, Message::Proposal(forged));
        assert!(
            matches!(effects.as_slice(), [Effect::Ignored { .. }]),
            "{effects:?}"
        );
    }
    assert!(
        core.wants_proposal(1, 0),
        "the leader's proposal is still wanted"
    );
    assert_eq!(
        deliver(&mut core, net.proposal(leader, 0, &x, vec![])),
        vec![Effect::Execute { block: x.clone() }]
    );
}

#[test]
fn proposals_of_no_use_are_refused_and_known_before_decoding() {
    let net = Net::new();
    let mut core = net.core(0);
    step(&mut core, Input::Start);
    let x = net.block(1, 0, GENESIS);
    let hx = hash(&x);
    // What the node reads before decoding: height and view.
    let px = net.proposal(1, 0, &x, vec![]);
    assert_eq!(Message::peek_proposal(&px.to_bytes()), Some((1, 0)));
    assert_eq!(
        Message::peek_proposal(&net.prepare(1, 1, 0, hx).to_bytes()),
        None
    );
    // The current height: the leader's proposal and more copies are looked at (three, and one
    // for each validator the set tolerates as faulty), then no more.
    assert!(core.wants_proposal(1, 0));
    assert_eq!(core.proposal_copies_max(), PROPOSAL_COPIES_PER_VIEW_MAX + 1);
    for _ in 0..core.proposal_copies_max() {
        deliver(&mut core, px.clone());
    }
    assert!(!core.wants_proposal(1, 0));
    assert_refused(&mut core, px, ConsensusError::SurplusProposal { view: 0 });
    assert!(core.wants_proposal(1, 1), "another view is counted apart");
    // The next height: until its view's leader's proposal is held; never further ahead.
    let next = net.block(2, 0, hx);
    assert!(core.wants_proposal(2, 0));
    assert!(!core.wants_proposal(3, 0));
    assert_eq!(
        deliver(&mut core, net.proposal(net.leader(2, 0), 0, &next, vec![])),
        vec![Effect::RequestSync { from_height: 1 }]
    );
    assert!(!core.wants_proposal(2, 0));
    assert!(core.wants_proposal(2, 1));
    // A proposal for the next height from a validator that does not lead its view is refused
    // (penalised), and one beyond the next height is not kept.
    let not_leader = (1..4).find(|&v| v != net.leader(2, 1)).unwrap();
    assert_refused(
        &mut core,
        net.proposal(not_leader, 1, &net.block(2, 1, hx), vec![]),
        ConsensusError::NotLeader {
            view: 1,
            leader: net.leader(2, 1),
            found: not_leader,
        },
    );
    let far = net.block(3, 0, Hash32([9; 32]));
    assert_refused(
        &mut core,
        net.proposal(net.leader(3, 0), 0, &far, vec![]),
        ConsensusError::FutureNotBuffered {
            signer: net.leader(3, 0),
        },
    );
}

#[test]
fn a_forged_future_proposal_does_not_take_the_place_of_the_real_one() {
    let net = Net::new();
    let mut core = net.core(3);
    step(&mut core, Input::Start);
    let leader = net.leader(2, 0);
    assert_ne!(leader, 3);
    let mut real = None;
    let mut fake = None;
    let effects = commit_height_1(&net, &mut core, |core, h| {
        // Height 2's proposal arrives before height 1 is committed here, and a forger got there
        // first with a proposal of its own in the leader's name.
        let next = net.block(2, 0, h);
        let forged_block = net.block_with_root(2, 0, h, 9);
        let Message::Proposal(mut forged) = net.proposal(leader, 0, &forged_block, vec![]) else {
            unreachable!()
        };
        forged.signature = net.key(0).sign(b"not the leader's");
        deliver(core, Message::Proposal(forged));
        deliver(core, net.proposal(leader, 0, &next, vec![]));
        assert_eq!(
            core.future_buffered(),
            1,
            "the real proposal replaces the forged one"
        );
        real = Some(next);
        fake = Some(forged_block);
    });
    let (real, fake) = (real.unwrap(), fake.unwrap());
    assert!(
        effects.contains(&Effect::Execute { block: real }),
        "the real proposal was not replayed: {effects:?}"
    );
    assert!(!effects.contains(&Effect::Execute { block: fake }));
    assert_eq!(core.future_buffered(), 0);
}

#[test]
fn future_messages_from_impossible_signers_or_beyond_a_signers_unverified_share_are_dropped() {
    let net = Net::new();
    let mut core = net.core(3);
    step(&mut core, Input::Start);
    // No set has a validator with this index.
    let Message::Vote(mut far) = net.prepare(1, 2, 0, Hash32([1; 32])) else {
        unreachable!()
    };
    far.voter = u16::MAX;
    deliver(&mut core, Message::Vote(far));
    assert_eq!(core.future_buffered(), 0);
    // Votes for height 2 in validator 2's name that do not verify under the current set: kept
    // only up to the signer's unverified share, then refused (and reported, for a penalty).
    let mut reported = 0;
    for view in 0..=lichen_consensus::VIEW_WINDOW {
        for kind in [VoteKind::Prepare, VoteKind::Commit] {
            let mut vote = net.signed_vote(kind, 2, 2, view, Hash32([2; 32]));
            vote.signature = net.key(0).sign(b"forged");
            let effects = deliver(&mut core, Message::Vote(vote));
            reported += effects
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        Effect::Ignored {
                            error: ConsensusError::BadSignature { index: 2 }
                        }
                    )
                })
                .count();
        }
    }
    let sent = 2 * (lichen_consensus::VIEW_WINDOW as usize + 1);
    let share = lichen_consensus::FUTURE_UNVERIFIED_PER_SIGNER_MAX;
    assert_eq!(core.future_buffered(), share);
    assert_eq!(reported, sent - share);
    // Validator 1's real vote for height 2 is still kept.
    deliver(&mut core, net.prepare(1, 2, 0, Hash32([2; 32])));
    assert_eq!(core.future_buffered(), share + 1);
}
