//! What makes a block a valid next block: `check_successor` (one `BlockError` per header rule, the
//! clock rule only when a clock is given), `check_executed` (the header's claimed state root and
//! next validator set), and `BlockExecutor`, which `execute_block` and block builders share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::block::{
    BLOCK_TIME_DRIFT_MAX_MS, Block, BlockError, BlockLimits, HEADER_VERSION, Parent,
    check_executed, check_successor,
};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::exec::{
    BlockExecutor, BlockTxError, VersionedState, execute_block, execute_block_known,
};
use lichen_contracts::ledger::{BlockContext, TxError, verify_signatures};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::{Payload, SignedTransaction};

const SUITE: Suite = Suite::Intl;
const TXS_MAX: u32 = 1_000;
const BYTES_MAX: u32 = 1024 * 1024;

fn anchor(c: &mut TestChain, i: u8) -> SignedTransaction {
    c.signed(
        Payload::AnchorEvidence {
            hash: Hash32([i; 32]),
            submitter: "court-1".into(),
            label: format!("document {i}"),
        },
        "court-1",
    )
}

/// A chain of two blocks; block 2 holds two evidence anchors.
fn chain() -> TestChain {
    let mut c = TestChain::new(SUITE, 4);
    c.commit(Vec::new(), GENESIS_TIME_MS + 1_000).unwrap();
    let txs = vec![anchor(&mut c, 1), anchor(&mut c, 2)];
    c.commit(txs, GENESIS_TIME_MS + 2_000).unwrap();
    c
}

fn block(c: &TestChain, height: usize) -> Block {
    Block {
        header: c.blocks[height].header.clone(),
        txs: c.blocks[height].txs.clone(),
    }
}

/// Checks block 2 of `c` as altered by `alter`, against block 1.
fn check(
    c: &TestChain,
    alter: impl FnOnce(&mut Block),
    now_ms: Option<u64>,
) -> Result<(), BlockError> {
    let mut b = block(c, 2);
    alter(&mut b);
    let parent = Parent {
        header: &c.blocks[1].header,
        hash: c.blocks[1].header.hash(SUITE),
        next_validators: &c.signing_sets[2],
    };
    let limits = BlockLimits {
        txs_max: TXS_MAX,
        bytes_max: BYTES_MAX,
    };
    check_successor(SUITE, c.chain_id(), &parent, &b, limits, now_ms)
}

#[test]
fn a_committed_block_follows_its_parent() {
    let c = chain();
    let time = c.blocks[2].header.time_ms;
    assert_eq!(check(&c, |_| {}, None), Ok(()));
    assert_eq!(check(&c, |_| {}, Some(time)), Ok(()));
    // At most the drift ahead of the clock.
    assert_eq!(
        check(&c, |_| {}, Some(time - BLOCK_TIME_DRIFT_MAX_MS)),
        Ok(())
    );
}

#[test]
fn each_header_rule_has_its_error() {
    let c = chain();
    let parent_hash = c.blocks[1].header.hash(SUITE);
    let parent_time = c.blocks[1].header.time_ms;
    let time = c.blocks[2].header.time_ms;
    let set_hash = c.signing_sets[2].hash(SUITE);
    assert_eq!(
        check(&c, |b| b.header.version = HEADER_VERSION + 1, None),
        Err(BlockError::Version {
            expected: HEADER_VERSION,
            found: HEADER_VERSION + 1
        })
    );
    assert_eq!(
        check(&c, |b| b.header.chain_id = "other".into(), None),
        Err(BlockError::WrongChain {
            expected: c.chain_id().into(),
            found: "other".into()
        })
    );
    assert_eq!(
        check(&c, |b| b.header.height = 3, None),
        Err(BlockError::Height { height: 3, tip: 1 })
    );
    assert_eq!(
        check(&c, |b| b.header.previous_hash = Hash32::ZERO, None),
        Err(BlockError::Parent {
            expected: parent_hash,
            found: Hash32::ZERO
        })
    );
    assert_eq!(
        check(&c, |b| b.header.time_ms = parent_time, None),
        Err(BlockError::TimeNotAdvancing {
            time_ms: parent_time,
            previous_ms: parent_time
        })
    );
    let now = time - BLOCK_TIME_DRIFT_MAX_MS - 1;
    let ahead = check(&c, |_| {}, Some(now)).unwrap_err();
    assert_eq!(
        ahead,
        BlockError::TimeAhead {
            time_ms: time,
            now_ms: now,
            drift_max_ms: BLOCK_TIME_DRIFT_MAX_MS
        }
    );
    assert_eq!(
        ahead.to_string(),
        format!("block time {time} lies more than 5000 ms ahead of this node's clock {now}")
    );
    assert_eq!(
        check(&c, |b| b.header.tx_count = TXS_MAX + 1, None),
        Err(BlockError::TooManyTxs {
            count: TXS_MAX + 1,
            max: TXS_MAX
        })
    );
    // The transactions' bytes together, within the chain's block_bytes_max.
    let b = block(&c, 2);
    let bytes: usize = b.txs.iter().map(|tx| tx.to_bytes().len()).sum();
    let parent = Parent {
        header: &c.blocks[1].header,
        hash: c.blocks[1].header.hash(SUITE),
        next_validators: &c.signing_sets[2],
    };
    let limits = |bytes_max: usize| BlockLimits {
        txs_max: TXS_MAX,
        bytes_max: u32::try_from(bytes_max).unwrap(),
    };
    assert_eq!(
        check_successor(SUITE, c.chain_id(), &parent, &b, limits(bytes), None),
        Ok(())
    );
    assert_eq!(
        check_successor(SUITE, c.chain_id(), &parent, &b, limits(bytes - 1), None),
        Err(BlockError::TooLarge {
            bytes,
            max: u32::try_from(bytes - 1).unwrap()
        })
    );
    assert_eq!(
        check(&c, |b| b.header.tx_count = 1, None),
        Err(BlockError::TxRoot)
    );
    assert_eq!(
        check(&c, |b| b.txs.reverse(), None),
        Err(BlockError::TxRoot)
    );
    assert_eq!(
        check(&c, |b| b.header.validator_set_hash = Hash32::ZERO, None),
        Err(BlockError::ValidatorSet {
            expected: set_hash,
            found: Hash32::ZERO
        })
    );
    assert_eq!(
        check(&c, |b| b.header.proposer = 4, None),
        Err(BlockError::ProposerOutOfRange {
            proposer: 4,
            validators: 4
        })
    );
}

#[test]
fn the_executed_result_must_match_the_header() {
    let c = chain();
    let header = &c.blocks[2].header;
    let next = &c.signing_sets[2];
    assert_eq!(
        check_executed(SUITE, header, &header.state_root, next),
        Ok(())
    );
    let err = check_executed(SUITE, header, &Hash32::ZERO, next).unwrap_err();
    assert_eq!(
        err,
        BlockError::StateRoot {
            header: header.state_root,
            executed: Hash32::ZERO
        }
    );
    let mut other = next.clone();
    other.validators.pop();
    assert!(matches!(
        check_executed(SUITE, header, &header.state_root, &other),
        Err(BlockError::NextValidatorSet { .. })
    ));
}

#[test]
fn a_refused_transaction_leaves_the_executor_as_it_was() {
    let mut c = chain();
    let fresh = anchor(&mut c, 3);
    let replayed = c.blocks[2].txs[0].clone();
    let base = VersionedState::new(&c.store, SUITE, 2);
    let ctx = BlockContext {
        height: 3,
        time_ms: GENESIS_TIME_MS + 3_000,
    };
    let mut executor = BlockExecutor::new(SUITE, &base, &c.replay, ctx);
    let id = fresh.id(SUITE);
    assert_eq!(
        executor.apply(verify_signatures(SUITE, &replayed).unwrap()),
        Err(TxError::Duplicate {
            tx_id: replayed.id(SUITE)
        })
    );
    assert!(!executor.contains(&id));
    executor
        .apply(verify_signatures(SUITE, &fresh).unwrap())
        .unwrap();
    assert!(executor.contains(&id));
    // Once in the block, the same transaction is a duplicate.
    assert_eq!(
        executor.apply(verify_signatures(SUITE, &fresh).unwrap()),
        Err(TxError::Duplicate { tx_id: id })
    );
    // What is left is what executing the accepted transactions alone gives.
    let alone = execute_block(SUITE, &base, &c.replay, std::slice::from_ref(&fresh), &ctx).unwrap();
    assert_eq!(executor.finish(), alone);
    // And a block holding a refused transaction is refused at its index.
    assert_eq!(
        execute_block(SUITE, &base, &c.replay, &[fresh, replayed.clone()], &ctx),
        Err(BlockTxError {
            index: 1,
            error: TxError::Duplicate {
                tx_id: replayed.id(SUITE)
            }
        })
    );
}

/// A block is checked one transaction at a time, signatures then rules: a block that opens with a
/// transaction the rules refuse costs one signature check, however many follow.
#[test]
fn execution_stops_at_the_first_refused_transaction_before_checking_later_signatures() {
    let mut c = chain();
    let replayed = c.blocks[2].txs[0].clone();
    let mut txs = vec![replayed.clone()];
    txs.extend((10..40).map(|i| anchor(&mut c, i)));
    let base = VersionedState::new(&c.store, SUITE, 2);
    let ctx = BlockContext {
        height: 3,
        time_ms: GENESIS_TIME_MS + 3_000,
    };
    let asked = std::cell::Cell::new(0);
    let result = execute_block_known(SUITE, &base, &c.replay, &txs, &ctx, &|_| {
        asked.set(asked.get() + 1);
        false
    });
    assert_eq!(
        result,
        Err(BlockTxError {
            index: 0,
            error: TxError::Duplicate {
                tx_id: replayed.id(SUITE)
            }
        })
    );
    assert_eq!(
        asked.get(),
        1,
        "signatures after the refused transaction were checked"
    );
}
