//! The simulation loop: nodes, the event queue and the network, effects carried out in order,
//! crashes (also in the middle of a step's effect list), the checkers after every step, and
//! liveness after stabilisation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lichen_consensus::{Config, Effect, ExecutionError, Input, Message};
use lichen_contracts::block::{Block, CommitCertificate, VoteKind};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, PublicKey};
use lichen_contracts::model::ValidatorSet;
use lichen_contracts::tx::{Payload, SignedTransaction};

use crate::app::{CHAIN_ID, Chain, GENESIS_HASH, SigCache, pool, set_change, validator};
use crate::byzantine::{Byzantine, Ctx, Send};
use crate::checker::{Check, Checker, Violation};
use crate::network::{Event, NetStats, Network, Packet, Queue};
use crate::node::{Node, SYNC_CANDIDATES_MAX, SYNC_QUEUE_MAX};
use crate::rng::{Rng, mix};
use crate::scenario::{LIVENESS_BLOCKS, Options, Settings};

/// Committed blocks sent in one sync answer, at most.
pub const SYNC_BATCH: usize = 16;

/// What happened in a run.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub steps: u64,
    pub commits: u64,
    pub proposals: u64,
    pub votes: u64,
    pub view_changes: u64,
    pub equivocations: u64,
    pub ignored: u64,
    pub undecodable: u64,
    pub crashes: u64,
    pub restarts: u64,
    pub sync_requests: u64,
    pub helps: u64,
    pub synced_fed: u64,
    pub tx_signatures_verified: u64,
    pub net: NetStats,
}

/// A run that kept every property.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub seed: u64,
    /// Folds every event and effect: equal digests mean equal traces.
    pub digest: u64,
    pub sim_ms: u64,
    /// Highest height an honest node committed.
    pub height: u64,
    pub height_at_stabilise: u64,
    pub stabilise_at_ms: u64,
    /// Committed transactions on the highest honest chain.
    pub txs: u64,
    pub stats: Stats,
}

impl Outcome {
    /// Committed blocks per simulated second over the whole run.
    pub fn blocks_per_sec(&self) -> f64 {
        self.height as f64 * 1000.0 / self.sim_ms.max(1) as f64
    }
}

/// A run that broke a property, with everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    pub options: String,
    pub reproduce: String,
    pub at_ms: u64,
    pub violation: Violation,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "FAILED seed {} at {} ms: {}: {}",
            self.seed, self.at_ms, self.violation, self.detail
        )?;
        writeln!(f, "{}", self.options)?;
        write!(f, "  reproduce: {}", self.reproduce)
    }
}

/// Runs one seed. Deterministic: the same seed and settings give the same trace.
pub fn run(seed: u64, settings: &Settings) -> Result<Outcome, Failure> {
    run_options(Options::draw(seed, settings))
}

/// Runs fully specified options (a panic anywhere is reported as a failure of this seed).
pub fn run_options(options: Options) -> Result<Outcome, Failure> {
    let text = options.to_string();
    let reproduce = reproduce_command(&options);
    let seed = options.seed;
    match catch_unwind(AssertUnwindSafe(|| World::new(options).run())) {
        Ok(result) => result,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(Failure {
                seed,
                options: text,
                reproduce,
                at_ms: 0,
                violation: Violation::Panic,
                detail,
            })
        }
    }
}

fn reproduce_command(o: &Options) -> String {
    #[allow(unused_mut)]
    let mut cmd = format!(
        "cargo run -p lichen-sim{} -- --start {} --seeds 1 --validators {} --suite {} --scenario {} --trace",
        if cfg!(feature = "mutations") {
            " --features mutations"
        } else {
            ""
        },
        o.seed,
        o.validators,
        o.suite.name(),
        o.scenario.name()
    );
    #[cfg(feature = "mutations")]
    if let Some(m) = o.mutation {
        cmd.push_str(&format!(" --mutation {}", crate::mutation_name(m)));
    }
    cmd
}

type Step = Check<()>;

struct World {
    o: Options,
    config: Config,
    rng: Rng,
    now: u64,
    queue: Queue,
    net: Network,
    nodes: Vec<Node>,
    node_by_key: BTreeMap<PublicKey, usize>,
    checker: Checker,
    sigs: SigCache,
    stats: Stats,
    digest: u64,
    next_tx: usize,
    set_changes: Vec<SignedTransaction>,
    submits: u64,
    stable: bool,
    target: Option<u64>,
    height_at_stabilise: u64,
}

impl World {
    fn new(o: Options) -> Self {
        let suite = o.suite;
        let set = ValidatorSet::new((0..o.validators).map(|i| validator(suite, i)).collect())
            .unwrap_or_else(|e| panic!("validator set: {e}"));
        let genesis = Chain::genesis(suite, &set);
        #[allow(unused_mut)]
        let mut config = Config::new(CHAIN_ID, GENESIS_HASH, suite, o.params);
        #[cfg(feature = "mutations")]
        if let Some(m) = o.mutation {
            config = config.with_mutation(m);
        }
        let nodes: Vec<Node> = (0..o.nodes)
            .map(|i| {
                let byz = o
                    .byzantine
                    .get(&i)
                    .map(|b| Byzantine::new(suite, i, b.clone()));
                Node::new(i, suite, genesis.clone(), byz)
            })
            .collect();
        let node_by_key: BTreeMap<PublicKey, usize> =
            nodes.iter().map(|n| (n.key.clone(), n.id)).collect();
        let honest: BTreeSet<usize> = (0..o.nodes).filter(|i| o.is_honest(*i)).collect();
        let set_changes = if o.reconfigure {
            let spare = validator(suite, o.validators);
            (0..6)
                .map(|i| {
                    let payload = if i % 2 == 0 {
                        Payload::AddValidator(spare.clone())
                    } else {
                        Payload::RemoveValidator {
                            key: spare.key.clone(),
                        }
                    };
                    set_change(suite, i, payload)
                })
                .collect()
        } else {
            Vec::new()
        };
        World {
            config,
            rng: Rng::new(o.seed ^ 0x7275_6E74_696D_6521),
            now: 0,
            queue: Queue::default(),
            net: Network::new(&o),
            checker: Checker::new(suite, honest, node_by_key.clone()),
            nodes,
            node_by_key,
            sigs: SigCache::default(),
            stats: Stats::default(),
            digest: 0,
            next_tx: 0,
            set_changes,
            submits: 0,
            stable: false,
            target: None,
            height_at_stabilise: 0,
            o,
        }
    }

    fn run(mut self) -> Result<Outcome, Failure> {
        match self.simulate() {
            Ok(()) => Ok(self.outcome()),
            Err((violation, detail)) => Err(Failure {
                seed: self.o.seed,
                options: self.o.to_string(),
                reproduce: reproduce_command(&self.o),
                at_ms: self.now,
                violation,
                detail,
            }),
        }
    }

    fn simulate(&mut self) -> Step {
        for id in 0..self.nodes.len() {
            if self.nodes[id]
                .byzantine
                .as_ref()
                .is_some_and(|b| b.is_silent())
            {
                continue;
            }
            self.nodes[id].boot(&self.config);
            self.step(id, Input::Start)?;
            if self.nodes[id].byzantine.is_some() {
                let at = self.rng.range(10, 50);
                self.queue.push(at, Event::ByzantineTick { node: id });
            }
        }
        for c in self.o.crashes.clone() {
            self.queue.push(
                c.at_ms,
                Event::Crash {
                    node: c.node,
                    down_ms: c.down_ms,
                },
            );
        }
        self.queue.push(self.o.tx_interval_ms, Event::Submit);
        let end = match self.o.fixed_duration_ms {
            Some(d) => d,
            None => {
                self.queue.push(self.o.stabilise_at_ms, Event::Stabilise);
                self.o.stabilise_at_ms + self.o.liveness_bound_ms
            }
        };
        while let Some((time, event)) = self.queue.pop() {
            if time > end {
                break;
            }
            self.now = time;
            self.fold(time);
            self.fold(event.code());
            if self.o.trace {
                trace_event(time, &event);
            }
            if let Some(id) = self.handle(event)? {
                self.feed_sync(id)?;
            }
            if let Some(target) = self.target
                && self.honest_ids().all(|i| self.nodes[i].height() >= target)
            {
                return Ok(());
            }
        }
        self.now = end;
        if self.o.fixed_duration_ms.is_some() {
            return Ok(());
        }
        let target = self.target.unwrap_or(0);
        let behind: Vec<String> = self
            .honest_ids()
            .filter(|i| self.nodes[*i].height() < target)
            .map(|i| {
                let n = &self.nodes[i];
                match &n.core {
                    Some(c) => format!(
                        "node {i} committed {} (core at height {} view {})",
                        n.height(),
                        c.height(),
                        c.view()
                    ),
                    None => format!("node {i} committed {} (down)", n.height()),
                }
            })
            .collect();
        Err((
            Violation::Liveness,
            format!(
                "{} ms after stabilisation (height {} then) not every honest node reached height {target}: {}",
                self.o.liveness_bound_ms,
                self.height_at_stabilise,
                behind.join("; ")
            ),
        ))
    }

    fn honest_ids(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|i| self.o.is_honest(*i))
    }

    fn fold(&mut self, x: u64) {
        self.digest = mix(self.digest.rotate_left(7) ^ x);
    }

    fn outcome(&self) -> Outcome {
        let best = self
            .honest_ids()
            .max_by_key(|i| self.nodes[*i].height())
            .map(|i| &self.nodes[i].disk.chain);
        let mut stats = self.stats.clone();
        stats.net = self.net.stats.clone();
        stats.tx_signatures_verified = self.sigs.verified;
        let mut digest = self.digest;
        for n in &self.nodes {
            digest =
                mix(digest ^ n.height() ^ u64::from_le_bytes(first8(&n.disk.chain.last().hash)));
        }
        Outcome {
            seed: self.o.seed,
            digest,
            sim_ms: self.now,
            height: self.checker.highest(),
            height_at_stabilise: self.height_at_stabilise,
            stabilise_at_ms: self.o.stabilise_at_ms,
            txs: best.map_or(0, |c| c.committed_txs.len() as u64),
            stats,
        }
    }

    /// Handles one event; returns the node it concerned.
    fn handle(&mut self, event: Event) -> Check<Option<usize>> {
        match event {
            Event::Deliver { from, to, packet } => {
                self.fold((from * 1000 + to) as u64);
                self.deliver(from, to, packet)?;
                Ok(Some(to))
            }
            Event::Timer {
                node,
                incarnation,
                height,
                view,
            } => {
                if self.live(node, incarnation) {
                    self.step(node, Input::Timeout { height, view })?;
                }
                Ok(Some(node))
            }
            Event::BuildProposal {
                node,
                incarnation,
                height,
                view,
            } => {
                if self.live(node, incarnation) {
                    self.build_proposal(node, height, view)?;
                }
                Ok(Some(node))
            }
            Event::Executed {
                node,
                incarnation,
                block_hash,
                outcome,
            } => {
                if self.live(node, incarnation) {
                    self.step(
                        node,
                        Input::Executed {
                            block_hash,
                            outcome,
                        },
                    )?;
                }
                Ok(Some(node))
            }
            Event::Crash { node, down_ms } => {
                if !self.stable && self.nodes[node].is_up() && self.o.is_honest(node) {
                    self.crash(node, down_ms);
                }
                Ok(None)
            }
            Event::Restart { node, incarnation } => {
                if self.nodes[node].incarnation == incarnation && !self.nodes[node].is_up() {
                    self.restart(node)?;
                }
                Ok(Some(node))
            }
            Event::Submit => {
                self.submit();
                Ok(None)
            }
            Event::ByzantineTick { node } => {
                let sends = self
                    .with_byzantine(node, |b, ctx| b.on_tick(ctx))
                    .unwrap_or_default();
                self.byzantine_send(node, sends)?;
                let next = self.now + self.rng.range(20, 80);
                self.queue.push(next, Event::ByzantineTick { node });
                Ok(None)
            }
            Event::Stabilise => {
                self.stabilise()?;
                Ok(None)
            }
        }
    }

    fn live(&self, node: usize, incarnation: u64) -> bool {
        let n = &self.nodes[node];
        n.is_up() && n.incarnation == incarnation
    }

    fn stabilise(&mut self) -> Step {
        self.stable = true;
        self.net.stabilise();
        for id in 0..self.nodes.len() {
            let n = &self.nodes[id];
            let silent = n.byzantine.as_ref().is_some_and(|b| b.is_silent());
            if !n.is_up() && !silent {
                self.restart(id)?;
                self.feed_sync(id)?;
            }
        }
        self.height_at_stabilise = self.checker.highest();
        self.target = Some(self.height_at_stabilise + LIVENESS_BLOCKS);
        Ok(())
    }

    // ------------------------------------------------------------------ crashes

    fn crash(&mut self, id: usize, down_ms: u64) {
        if self.o.trace {
            eprintln!("{:>7} n{id} CRASH (down {down_ms} ms)", self.now);
        }
        self.nodes[id].crash();
        self.stats.crashes += 1;
        let incarnation = self.nodes[id].incarnation;
        self.queue.push(
            self.now + down_ms,
            Event::Restart {
                node: id,
                incarnation,
            },
        );
    }

    fn restart(&mut self, id: usize) -> Step {
        self.nodes[id].boot(&self.config);
        self.stats.restarts += 1;
        self.step(id, Input::Start)
    }

    /// Where to crash in this step's effect list (index of the first lost effect), if at all.
    fn crash_point(&mut self, id: usize, effects: &[Effect]) -> Option<usize> {
        if self.stable || !self.o.is_honest(id) || effects.is_empty() {
            return None;
        }
        if self.o.crash_after_vote_per_mille > 0
            && let Some(k) = effects
                .iter()
                .position(|e| matches!(e, Effect::Broadcast(Message::Vote(_))))
            && self.rng.chance(self.o.crash_after_vote_per_mille)
        {
            return Some(k + 1);
        }
        if self.rng.chance(self.o.crash_in_step_per_mille) {
            return Some(self.rng.index(effects.len() + 1));
        }
        None
    }

    // ------------------------------------------------------------------ stepping

    fn step(&mut self, id: usize, input: Input) -> Step {
        let Some(core) = self.nodes[id].core.as_mut() else {
            return Ok(());
        };
        if self.o.trace {
            eprintln!("{:>7} n{id} <- {}", self.now, describe_input(&input));
        }
        let effects = core.step(input);
        self.stats.steps += 1;
        for e in &effects {
            let code = effect_code(e);
            self.fold(code);
            if self.o.trace {
                eprintln!("{:>7} n{id}    {}", self.now, describe_effect(e));
            }
        }
        let cut = self.crash_point(id, &effects);
        let len = effects.len();
        for (i, e) in effects.into_iter().enumerate() {
            if cut == Some(i) {
                break;
            }
            self.apply(id, e)?;
        }
        if let Some(k) = cut {
            if self.o.trace {
                eprintln!("{:>7} n{id} crash after {k} of {len} effects", self.now);
            }
            let down = self
                .rng
                .range(self.o.random_down_ms.0, self.o.random_down_ms.1);
            self.crash(id, down);
        }
        Ok(())
    }

    /// Feeds fetched blocks to the core, one height at a time.
    fn feed_sync(&mut self, id: usize) -> Step {
        loop {
            let Some(h) = self.nodes[id].core.as_ref().map(|c| c.height()) else {
                return Ok(());
            };
            let node = &mut self.nodes[id];
            node.sync_queue = node.sync_queue.split_off(&h);
            let Some(candidates) = node.sync_queue.remove(&h) else {
                return Ok(());
            };
            for (block, certificate) in candidates {
                self.stats.synced_fed += 1;
                self.step(id, Input::Synced { block, certificate })?;
                if self.nodes[id].core.as_ref().map(|c| c.height()) != Some(h) {
                    break;
                }
            }
            if self.nodes[id].core.as_ref().map(|c| c.height()) == Some(h) {
                return Ok(());
            }
        }
    }

    fn apply(&mut self, id: usize, effect: Effect) -> Step {
        let honest = self.o.is_honest(id);
        match effect {
            Effect::Persist(p) => self.nodes[id].disk.persisted = Some(p),
            Effect::Broadcast(m) => {
                if honest {
                    match &m {
                        Message::Proposal(_) => self.stats.proposals += 1,
                        Message::Vote(_) => self.stats.votes += 1,
                        Message::ViewChange(_) => self.stats.view_changes += 1,
                    }
                    self.checker.on_broadcast(id, &m)?;
                    self.broadcast(id, &m);
                } else {
                    let sends = self
                        .with_byzantine(id, |b, ctx| b.on_broadcast(ctx, m))
                        .unwrap_or_default();
                    self.byzantine_send(id, sends)?;
                }
            }
            Effect::ScheduleTimer {
                height,
                view,
                after_ms,
            } => {
                let incarnation = self.nodes[id].incarnation;
                self.queue.push(
                    self.now + after_ms,
                    Event::Timer {
                        node: id,
                        incarnation,
                        height,
                        view,
                    },
                );
            }
            Effect::BuildProposal { height, view } => {
                let incarnation = self.nodes[id].incarnation;
                let at = self.now + self.o.params.block_interval_ms + self.rng.range(0, 5);
                self.queue.push(
                    at,
                    Event::BuildProposal {
                        node: id,
                        incarnation,
                        height,
                        view,
                    },
                );
            }
            Effect::Execute { block } => {
                let block_hash = block.header.hash(self.o.suite);
                let outcome = self.nodes[id]
                    .disk
                    .chain
                    .check(&block, &mut self.sigs)
                    .map_err(ExecutionError::from);
                let incarnation = self.nodes[id].incarnation;
                let at = self.now + self.rng.range(1, 5);
                self.queue.push(
                    at,
                    Event::Executed {
                        node: id,
                        incarnation,
                        block_hash,
                        outcome,
                    },
                );
            }
            Effect::Commit { block, certificate } => self.commit(id, block, certificate)?,
            Effect::RequestSync { from_height } => {
                self.stats.sync_requests += 1;
                let mut to = self.rng.index(self.nodes.len() - 1);
                if to >= id {
                    to += 1;
                }
                if self.nodes.len() > 1 {
                    self.send(id, to, Packet::SyncRequest { from_height }, false);
                }
            }
            Effect::HelpCatchUp {
                validator,
                from_height,
            } => {
                self.stats.helps += 1;
                let to = self.nodes[id]
                    .core
                    .as_ref()
                    .and_then(|c| c.validators().validators.get(usize::from(validator)))
                    .and_then(|v| self.node_by_key.get(&v.key))
                    .copied();
                let blocks = self.nodes[id].disk.chain.range(from_height, SYNC_BATCH);
                if let Some(to) = to
                    && to != id
                    && !blocks.is_empty()
                {
                    self.send(id, to, Packet::SyncResponse(blocks), false);
                }
            }
            Effect::Equivocation(evidence) => {
                self.stats.equivocations += 1;
                if honest && let Some(core) = self.nodes[id].core.as_ref() {
                    let set = core.validators().clone();
                    self.checker.on_evidence(id, &evidence, &set)?;
                }
            }
            Effect::Ignored { .. } => self.stats.ignored += 1,
        }
        Ok(())
    }

    fn commit(&mut self, id: usize, block: Block, certificate: CommitCertificate) -> Step {
        let honest = self.o.is_honest(id);
        let node = &mut self.nodes[id];
        let checked =
            self.checker
                .on_commit(id, &node.disk.chain, &block, &certificate, &mut self.sigs);
        let (next, first) = match checked {
            Ok(x) => x,
            Err(e) if honest => return Err(e),
            // A Byzantine node's chain is not checked; keep it in step with its core.
            Err(_) => (node.disk.chain.last().next_set.clone(), false),
        };
        let digest = u64::from_le_bytes(first8(&block.header.hash(self.o.suite)));
        for tx in &block.txs {
            node.mempool.remove(&tx.id(self.o.suite));
        }
        node.disk.chain.append(block, certificate, next);
        self.fold(digest);
        self.stats.commits += 1;
        if first && !self.stable && self.rng.chance(self.o.isolate_on_commit_per_mille) {
            let until = self.now + self.rng.range(self.o.isolate_ms.0, self.o.isolate_ms.1);
            if self.o.trace {
                eprintln!("{:>7} n{id} ISOLATED until {until}", self.now);
            }
            self.net.isolate(id, until);
        }
        Ok(())
    }

    fn build_proposal(&mut self, id: usize, height: u64, view: u64) -> Step {
        let node = &self.nodes[id];
        let Some(core) = node.core.as_ref() else {
            return Ok(());
        };
        let Some(me) = core.my_index() else {
            return Ok(());
        };
        let chain = &node.disk.chain;
        if chain.height() + 1 != height {
            return Ok(());
        }
        let candidates: Vec<SignedTransaction> = node
            .mempool
            .iter()
            .filter(|(id, _)| !chain.committed_txs.contains(*id))
            .map(|(_, tx)| tx.clone())
            .collect();
        let block = chain.build(
            view,
            me,
            self.now,
            &candidates,
            self.o.params.block_txs_max as usize,
        );
        self.step(id, Input::ProposalReady { block })
    }

    fn submit(&mut self) {
        let suite = self.o.suite;
        let pool = pool(suite);
        self.submits += 1;
        let tx = if !self.set_changes.is_empty() && self.submits % 25 == 12 {
            Some(self.set_changes.remove(0))
        } else if self.next_tx < pool.evidence.len() {
            self.next_tx += 1;
            Some(pool.evidence[self.next_tx - 1].clone())
        } else {
            None
        };
        if let Some(tx) = tx {
            let id = tx.id(suite);
            let up: Vec<usize> = (0..self.nodes.len())
                .filter(|i| self.nodes[*i].is_up())
                .collect();
            if !up.is_empty() {
                let first = *self.rng.pick(&up);
                for i in up {
                    if i == first || self.rng.coin() {
                        let node = &mut self.nodes[i];
                        if !node.disk.chain.committed_txs.contains(&id) {
                            node.mempool.insert(id, tx.clone());
                        }
                    }
                }
            }
        }
        if self.next_tx < pool.evidence.len() || !self.set_changes.is_empty() {
            self.queue
                .push(self.now + self.o.tx_interval_ms, Event::Submit);
        }
    }

    // ------------------------------------------------------------------ network

    fn send(&mut self, from: usize, to: usize, packet: Packet, commit_vote: bool) {
        self.net.send(
            &mut self.rng,
            &mut self.queue,
            self.now,
            from,
            to,
            packet,
            commit_vote,
        );
    }

    fn broadcast(&mut self, from: usize, m: &Message) {
        let bytes = m.to_bytes();
        let commit = matches!(m, Message::Vote(v) if v.vote.kind == VoteKind::Commit);
        for to in 0..self.nodes.len() {
            if to != from {
                self.send(from, to, Packet::Consensus(bytes.clone()), commit);
            }
        }
    }

    fn deliver(&mut self, from: usize, to: usize, packet: Packet) -> Step {
        if !self.nodes[to].is_up() {
            return Ok(());
        }
        match packet {
            Packet::Consensus(bytes) => {
                match Message::from_wire(&bytes) {
                    Ok(m) => {
                        if let Some(b) = self.nodes[to].byzantine.as_mut() {
                            // Only well-formed messages are kept for replays, so that a
                            // truncated copy of one never decodes.
                            b.record(&mut self.rng, &bytes);
                            b.observe(&m);
                        }
                        self.step(to, Input::Message(m))?
                    }
                    Err(_) => self.stats.undecodable += 1,
                }
            }
            Packet::SyncRequest { from_height } => {
                let honest = self.nodes[to].disk.chain.range(from_height, SYNC_BATCH);
                let blocks = if self.o.is_honest(to) {
                    honest
                } else {
                    self.with_byzantine(to, |b, ctx| b.on_sync_request(ctx, honest))
                        .unwrap_or_default()
                };
                if !blocks.is_empty() {
                    self.send(to, from, Packet::SyncResponse(blocks), false);
                }
            }
            Packet::SyncResponse(blocks) => {
                let node = &mut self.nodes[to];
                let Some(h) = node.core.as_ref().map(|c| c.height()) else {
                    return Ok(());
                };
                for (block, cert) in blocks {
                    let height = block.header.height;
                    if height < h
                        || (node.sync_queue.len() >= SYNC_QUEUE_MAX
                            && !node.sync_queue.contains_key(&height))
                    {
                        continue;
                    }
                    let slot = node.sync_queue.entry(height).or_default();
                    if slot.len() < SYNC_CANDIDATES_MAX
                        && !slot.iter().any(|(b, c)| *b == block && *c == cert)
                    {
                        slot.push((block, cert));
                    }
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ Byzantine nodes

    fn with_byzantine<R>(
        &mut self,
        id: usize,
        f: impl FnOnce(&mut Byzantine, &mut Ctx<'_>) -> R,
    ) -> Option<R> {
        let mut byz = self.nodes[id].byzantine.take()?;
        let peers: Vec<usize> = (0..self.nodes.len()).filter(|j| *j != id).collect();
        let node = &self.nodes[id];
        let (height, view, my_index) = node
            .core
            .as_ref()
            .map_or((node.disk.chain.height() + 1, 0, None), |c| {
                (c.height(), c.view(), c.my_index())
            });
        let mut ctx = Ctx {
            rng: &mut self.rng,
            suite: self.o.suite,
            peers: &peers,
            chain: &node.disk.chain,
            height,
            view,
            my_index,
        };
        let r = f(&mut byz, &mut ctx);
        self.nodes[id].byzantine = Some(byz);
        Some(r)
    }

    fn byzantine_send(&mut self, id: usize, sends: Vec<Send>) -> Step {
        for s in sends {
            match s {
                Send::Message(to, m) => {
                    let commit = matches!(&m, Message::Vote(v) if v.vote.kind == VoteKind::Commit);
                    self.send(id, to, Packet::Consensus(m.to_bytes()), commit);
                }
                Send::Garbage {
                    to,
                    bytes,
                    must_fail,
                } => {
                    if must_fail && let Ok(m) = Message::from_wire(&bytes) {
                        return Err((
                            Violation::Codec,
                            format!(
                                "{} garbage bytes decoded as a message: {}",
                                bytes.len(),
                                describe_message(&m)
                            ),
                        ));
                    }
                    self.send(id, to, Packet::Consensus(bytes), false);
                }
                Send::Sync(to, blocks) => self.send(id, to, Packet::SyncResponse(blocks), false),
            }
        }
        Ok(())
    }
}

fn first8(h: &Hash32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.0[..8]);
    out
}

fn short(h: &Hash32) -> String {
    h.to_hex()[..8].to_string()
}

fn effect_code(e: &Effect) -> u64 {
    match e {
        Effect::Broadcast(m) => {
            100 + m.height() * 7 + m.view().wrapping_mul(13) + u64::from(m.signer())
        }
        Effect::Persist(p) => 200 + p.height * 3 + p.view,
        Effect::ScheduleTimer { after_ms, .. } => 300 + after_ms,
        Effect::BuildProposal { height, view } => 400 + height + view,
        Effect::Execute { block } => 500 + block.header.height,
        Effect::Commit { block, .. } => 600 + block.header.height,
        Effect::RequestSync { from_height } => 700 + from_height,
        Effect::HelpCatchUp {
            validator,
            from_height,
        } => 800 + u64::from(*validator) + from_height,
        Effect::Equivocation(_) => 900,
        Effect::Ignored { .. } => 1000,
    }
}

fn describe_message(m: &Message) -> String {
    match m {
        Message::Proposal(p) => format!(
            "proposal h{} v{} block(view {} time {} txs {}) by {} with {} view changes",
            p.height,
            p.view,
            p.block.header.view,
            p.block.header.time_ms,
            p.block.txs.len(),
            p.proposer,
            p.justification.len()
        ),
        Message::Vote(v) => format!(
            "{:?} h{} v{} {} by {}",
            v.vote.kind,
            v.vote.height,
            v.vote.view,
            short(&v.vote.block_hash),
            v.voter
        ),
        Message::ViewChange(vc) => format!(
            "view-change h{} v{} prepared {:?} by {}",
            vc.height,
            vc.view,
            vc.prepared_summary().map(|(v, h)| (v, short(&h))),
            vc.voter
        ),
    }
}

fn describe_input(i: &Input) -> String {
    match i {
        Input::Start => "start".into(),
        Input::Message(m) => describe_message(m),
        Input::Timeout { height, view } => format!("timeout h{height} v{view}"),
        Input::ProposalReady { block } => format!(
            "proposal ready h{} v{} ({} txs)",
            block.header.height,
            block.header.view,
            block.txs.len()
        ),
        Input::Executed {
            block_hash,
            outcome,
        } => format!(
            "executed {} {}",
            short(block_hash),
            match outcome {
                Ok(_) => "valid".to_string(),
                Err(e) => format!("INVALID: {e}"),
            }
        ),
        Input::Synced { block, certificate } => format!(
            "synced h{} {} (cert view {}, {} sigs)",
            block.header.height,
            short(&certificate.block_hash),
            certificate.view,
            certificate.signatures.len()
        ),
    }
}

fn describe_effect(e: &Effect) -> String {
    match e {
        Effect::Broadcast(m) => format!("broadcast {}", describe_message(m)),
        Effect::Persist(p) => format!(
            "persist h{} v{} vc={} proposed={:?} prepare={:?} commit={:?} prepared={:?}",
            p.height,
            p.view,
            p.view_changing,
            p.proposed.as_ref().map(short),
            p.prepare_voted.as_ref().map(short),
            p.commit_voted.as_ref().map(short),
            p.prepared
                .as_ref()
                .map(|(pc, _)| (pc.view, short(&pc.block_hash)))
        ),
        Effect::ScheduleTimer {
            height,
            view,
            after_ms,
        } => format!("timer h{height} v{view} in {after_ms} ms"),
        Effect::BuildProposal { height, view } => format!("build h{height} v{view}"),
        Effect::Execute { block } => format!(
            "execute h{} (block view {}, time {})",
            block.header.height, block.header.view, block.header.time_ms
        ),
        Effect::Commit { block, certificate } => format!(
            "COMMIT h{} {} (cert view {})",
            block.header.height,
            short(&certificate.block_hash),
            certificate.view
        ),
        Effect::RequestSync { from_height } => format!("request sync from {from_height}"),
        Effect::HelpCatchUp {
            validator,
            from_height,
        } => format!("help {validator} from {from_height}"),
        Effect::Equivocation(ev) => format!("equivocation {ev:?}"),
        Effect::Ignored { error } => format!("ignored: {error}"),
    }
}

fn trace_event(time: u64, e: &Event) {
    match e {
        Event::Deliver { from, to, packet } => match packet {
            Packet::Consensus(b) => {
                eprintln!("{time:>7} n{to} deliver from n{from} ({} bytes)", b.len())
            }
            Packet::SyncRequest { from_height } => {
                eprintln!("{time:>7} n{to} sync request from n{from} for {from_height}..")
            }
            Packet::SyncResponse(blocks) => eprintln!(
                "{time:>7} n{to} sync answer from n{from}: heights {:?}",
                blocks
                    .iter()
                    .map(|(b, _)| b.header.height)
                    .collect::<Vec<_>>()
            ),
        },
        Event::Crash { node, down_ms } => {
            eprintln!("{time:>7} n{node} scheduled crash ({down_ms} ms)")
        }
        Event::Restart { node, .. } => eprintln!("{time:>7} n{node} restart"),
        Event::Stabilise => eprintln!("{time:>7} STABILISE"),
        _ => {}
    }
}
