//! Golden vectors for consensus messages: the canonical bytes of a proposal (with a view-change
//! justification carrying a prepared certificate), a vote and a view change, with the digests
//! their signatures cover. `node/consensus/vectors/messages-{sm,intl}.json` are the reference
//! (PROTOCOL.md, "Consensus messages"); regenerate after an intended change with
//! `LICHEN_BLESS_VECTORS=1 cargo test -p lichen-consensus --test golden_messages`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_consensus::{Message, PreparedCertificate, Proposal, SignedVote, ViewChange};
use lichen_contracts::block::{
    Block, BlockHeader, HEADER_VERSION, IndexedSignature, Vote, VoteKind, tx_root,
};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::testkit::TestChain;
use serde_json::{Value, json};

fn path(suite: Suite) -> String {
    format!(
        "{}/vectors/messages-{}.json",
        env!("CARGO_MANIFEST_DIR"),
        suite.name()
    )
}

fn build(suite: Suite) -> Value {
    let chain = TestChain::new(suite, 4);
    let set = chain.genesis.validators.clone();
    let chain_id = chain.chain_id().to_string();
    let key = |i: usize| {
        let name = set.validators[i].name.clone();
        chain.key(&name)
    };
    let header = |view: u64| BlockHeader {
        version: HEADER_VERSION,
        chain_id: chain_id.clone(),
        height: 1,
        time_ms: chain.genesis.time_ms + 1_000,
        view,
        previous_hash: chain.blocks[0].header.hash(suite),
        tx_count: 0,
        tx_root: tx_root(suite, &[]),
        state_root: chain.blocks[0].header.state_root,
        validator_set_hash: set.hash(suite),
        next_validator_set_hash: set.hash(suite),
        proposer: ((1 + view) % 4) as u16,
    };
    let block = Block {
        header: header(0),
        txs: vec![],
    };
    let hash = block.header.hash(suite);
    let vote = |kind, voter: usize, view| {
        let v = Vote {
            kind,
            chain_id: chain_id.clone(),
            genesis_hash: chain.genesis.hash(),
            height: 1,
            view,
            block_hash: hash,
        };
        let signature = key(voter).sign(v.signing_hash(suite).as_bytes());
        SignedVote {
            vote: v,
            voter: voter as u16,
            signature,
        }
    };
    let prepare = vote(VoteKind::Prepare, 2, 0);
    let pc = PreparedCertificate {
        height: 1,
        view: 0,
        block_hash: hash,
        prepares: (0..3)
            .map(|i| IndexedSignature {
                index: i as u16,
                signature: vote(VoteKind::Prepare, i, 0).signature,
            })
            .collect(),
    };
    let view_change = |voter: usize, prepared: Option<(PreparedCertificate, Block)>| {
        let summary = prepared.as_ref().map(|(pc, _)| (pc.view, pc.block_hash));
        let digest = ViewChange::signing_hash(suite, &chain_id, 1, 1, summary);
        let (prepared, block) = prepared.map_or((None, None), |(pc, b)| (Some(pc), Some(b)));
        ViewChange {
            height: 1,
            view: 1,
            prepared,
            block,
            voter: voter as u16,
            signature: key(voter).sign(digest.as_bytes()),
        }
    };
    let vcs = [
        view_change(0, Some((pc.clone(), block.clone()))),
        view_change(1, None),
        view_change(3, None),
    ];
    let proposal_digest = Proposal::signing_hash(suite, &chain_id, 1, 1, &hash);
    // View 1's leader is validator (1 + 1) mod 4 = 2; it re-proposes the prepared block.
    let proposal = Proposal {
        height: 1,
        view: 1,
        block,
        // A justification's view changes carry no blocks: the proposal's is the prepared one.
        justification: vcs.iter().map(ViewChange::without_block).collect(),
        proposer: 2,
        signature: key(2).sign(proposal_digest.as_bytes()),
    };
    let vc_digest = ViewChange::signing_hash(suite, &chain_id, 1, 1, Some((0, hash)));
    json!({
        "about": "Lichen consensus message vectors (node/consensus/tests/golden_messages.rs; PROTOCOL.md, Consensus messages)",
        "suite": suite.name(),
        "chain_id": chain_id,
        "genesis_hash": chain.genesis.hash().to_hex(),
        "validator_set": hex::encode(set.to_bytes()),
        "messages": [
            { "name": "prepare vote", "hex": hex::encode(Message::Vote(prepare.clone()).to_bytes()),
              "signed_digest": prepare.vote.signing_hash(suite).to_hex(), "signer": 2 },
            { "name": "view change with prepared certificate", "hex": hex::encode(Message::ViewChange(Box::new(vcs[0].clone())).to_bytes()),
              "signed_digest": vc_digest.to_hex(), "signer": 0 },
            { "name": "proposal in view 1 with justification", "hex": hex::encode(Message::Proposal(Box::new(proposal)).to_bytes()),
              "signed_digest": proposal_digest.to_hex(), "signer": 2 },
        ],
    })
}

fn check(doc: &Value) {
    let suite = Suite::from_name(doc["suite"].as_str().unwrap()).unwrap();
    let set = lichen_contracts::model::ValidatorSet::from_bytes(
        &hex::decode(doc["validator_set"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    for m in doc["messages"].as_array().unwrap() {
        let bytes = hex::decode(m["hex"].as_str().unwrap()).unwrap();
        let message = Message::from_wire(&bytes).unwrap();
        assert_eq!(
            message.to_bytes(),
            bytes,
            "{}: decode then encode",
            m["name"]
        );
        let digest = Hash32::from_hex(m["signed_digest"].as_str().unwrap()).unwrap();
        let signer = m["signer"].as_u64().unwrap() as usize;
        assert_eq!(usize::from(message.signer()), signer);
        let signature = match &message {
            Message::Vote(v) => {
                assert_eq!(v.vote.signing_hash(suite), digest);
                v.signature
            }
            Message::ViewChange(vc) => {
                let (pc, block) = (vc.prepared.as_ref().unwrap(), vc.block.as_ref().unwrap());
                assert_eq!(block.header.hash(suite), pc.block_hash);
                let genesis_hash = Hash32::from_hex(doc["genesis_hash"].as_str().unwrap()).unwrap();
                pc.verify(
                    suite,
                    doc["chain_id"].as_str().unwrap(),
                    &genesis_hash,
                    &set,
                    set.quorum(),
                )
                .unwrap();
                vc.signature
            }
            Message::Proposal(p) => p.signature,
        };
        set.validators[signer]
            .key
            .verify(digest.as_bytes(), &signature)
            .unwrap();
        // A broken variant: the signature's last byte flipped must not verify.
        let mut broken = signature.as_bytes().to_vec();
        broken[63] ^= 0x01;
        let broken = lichen_contracts::crypto::Signature::from_bytes(signature.algo(), &broken);
        assert!(
            broken.is_err()
                || set.validators[signer]
                    .key
                    .verify(digest.as_bytes(), &broken.unwrap())
                    .is_err()
        );
        // And a truncated message must not decode.
        assert!(Message::from_wire(&bytes[..bytes.len() - 1]).is_err());
    }
}

#[test]
fn consensus_message_vectors() {
    for suite in [Suite::Sm, Suite::Intl] {
        let built = build(suite);
        if std::env::var_os("LICHEN_BLESS_VECTORS").is_some() {
            std::fs::write(
                path(suite),
                serde_json::to_string_pretty(&built).unwrap() + "\n",
            )
            .unwrap();
        }
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(path(suite)).unwrap()).unwrap();
        check(&committed);
        assert!(
            committed == built,
            "{}: consensus message bytes changed; regenerate only if intended",
            path(suite)
        );
    }
}
