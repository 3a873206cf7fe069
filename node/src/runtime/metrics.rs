//! The node's Prometheus metrics (`GET /metrics`, the text format). Counters and histograms are
//! updated where the thing happens (a commit in the driver, a refusal in the API, bytes in the
//! wire codec); gauges that mirror state (height, view, peers, mempool, disk) are set from it when
//! scraped, so nothing has to keep them in step. Every handle here is a cheap clone of a shared
//! atomic, so a task keeps its own copy and no lock is taken on a hot path.
//!
//! Labels are bounded sets, never client input: error codes and verdicts are the node's own
//! `&'static str`s, directions are "in" and "out".

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Metrics::encode`]'s text.
pub const METRICS_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// One label, from a bounded set of the node's own names.
pub type Label = [(&'static str, &'static str); 1];

/// Seconds, from 0.5 ms to ~16 s (16 buckets, doubling): commits, finality, verifications.
fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

/// Every metric the node exports, named `lichen_*`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Height of the last committed block.
    pub height: Gauge,
    /// The consensus view this node is in.
    pub view: Gauge,
    /// View changes this node has gone through (a view left for the next at the same height).
    pub view_changes: Counter,
    pub peers: Gauge,
    /// Validators of the current set this node has a connection to.
    pub validators_reachable: Gauge,
    /// 1 when `GET /ready` would answer 200.
    pub ready: Gauge,
    pub mempool_txs: Gauge,
    pub mempool_bytes: Gauge,
    /// Bytes of the node's data directory.
    pub storage_bytes: Gauge,
    /// The storage engine's memtables (written, not yet flushed) and block cache, in bytes.
    pub storage_memtable_bytes: Gauge,
    pub storage_cache_bytes: Gauge,
    /// Tables on disk, and those in level 0 (flushed, not yet compacted: reads look in each).
    pub storage_tables: Gauge,
    pub storage_level0_tables: Gauge,
    pub storage_flushes_pending: Gauge,
    pub storage_compactions_running: Gauge,
    /// The height above which the filter of committed ids in memory holds every committed
    /// transaction, -1 while it holds none (after a restart, until its warming ends): below
    /// it, admission's replay check reads the transaction index.
    pub committed_ids_covered_above: Gauge,
    pub blocks_committed: Counter,
    pub txs_committed: Counter,
    /// Transactions clients submitted that entered the mempool.
    pub txs_admitted: Counter,
    /// Transactions clients submitted that were refused, by the API's error code.
    pub txs_refused: Family<Label, Counter>,
    /// From a block's proposal time to its commit on this node.
    pub commit_latency: Histogram,
    /// Writing a committed block to storage.
    pub commit_write: Histogram,
    /// `POST /v1/transactions?wait=final`: from the request to the answer.
    pub finality_wait: Histogram,
    /// `POST /v1/verify` answers, by verdict.
    pub verifications: Family<Label, Counter>,
    pub verify_latency: Histogram,
    /// Bytes of the validators' protocol, by direction ("in", "out"), frames included.
    pub p2p_bytes: Family<Label, Counter>,
    /// Bytes of peers' messages in the driver's channel (`INPUT_QUEUE_BYTES_MAX` at most), set
    /// on the network task's tick: a peer sending faster than the node handles shows here.
    pub p2p_inputs_queued_bytes: Gauge,
    /// Forwarded batches waiting for their signature checks, set on the same tick (at
    /// `RELAY_BACKLOG_ADMIT_MAX`, clients are answered 503 `overloaded`).
    pub relay_batches_waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("lichen"),
            height: Gauge::default(),
            view: Gauge::default(),
            view_changes: Counter::default(),
            peers: Gauge::default(),
            validators_reachable: Gauge::default(),
            ready: Gauge::default(),
            mempool_txs: Gauge::default(),
            mempool_bytes: Gauge::default(),
            storage_bytes: Gauge::default(),
            storage_memtable_bytes: Gauge::default(),
            storage_cache_bytes: Gauge::default(),
            storage_tables: Gauge::default(),
            storage_level0_tables: Gauge::default(),
            storage_flushes_pending: Gauge::default(),
            storage_compactions_running: Gauge::default(),
            committed_ids_covered_above: Gauge::default(),
            blocks_committed: Counter::default(),
            txs_committed: Counter::default(),
            txs_admitted: Counter::default(),
            txs_refused: Family::default(),
            commit_latency: seconds_buckets(),
            commit_write: seconds_buckets(),
            finality_wait: seconds_buckets(),
            verifications: Family::default(),
            verify_latency: seconds_buckets(),
            p2p_bytes: Family::default(),
            p2p_inputs_queued_bytes: Gauge::default(),
            relay_batches_waiting: Gauge::default(),
        };
        // Each handle registered is a clone sharing its atomic with the field.
        let r = &mut m.registry;
        r.register(
            "height",
            "Height of the last committed block",
            m.height.clone(),
        );
        r.register("view", "The consensus view this node is in", m.view.clone());
        r.register(
            "view_changes",
            "Views left for the next at the same height",
            m.view_changes.clone(),
        );
        r.register("peers", "Connected peers", m.peers.clone());
        r.register(
            "validators_reachable",
            "Validators of the current set this node has a connection to",
            m.validators_reachable.clone(),
        );
        r.register("ready", "1 when GET /ready answers 200", m.ready.clone());
        r.register(
            "mempool_transactions",
            "Transactions waiting in the mempool",
            m.mempool_txs.clone(),
        );
        r.register_with_unit(
            "mempool",
            "Bytes waiting in the mempool",
            Unit::Bytes,
            m.mempool_bytes.clone(),
        );
        r.register_with_unit(
            "storage",
            "Bytes of the data directory",
            Unit::Bytes,
            m.storage_bytes.clone(),
        );
        r.register_with_unit(
            "storage_memtable",
            "Bytes written to storage and not yet flushed to its tables",
            Unit::Bytes,
            m.storage_memtable_bytes.clone(),
        );
        r.register_with_unit(
            "storage_cache",
            "Bytes in the storage engine's block cache",
            Unit::Bytes,
            m.storage_cache_bytes.clone(),
        );
        r.register(
            "storage_tables",
            "Tables of the storage engine on disk",
            m.storage_tables.clone(),
        );
        r.register(
            "storage_level0_tables",
            "Tables flushed and not yet compacted",
            m.storage_level0_tables.clone(),
        );
        r.register(
            "storage_flushes_pending",
            "Memtable flushes waiting",
            m.storage_flushes_pending.clone(),
        );
        r.register(
            "storage_compactions_running",
            "Compactions running",
            m.storage_compactions_running.clone(),
        );
        r.register(
            "committed_ids_covered_above",
            "Height above which the in-memory filter of committed ids is complete (-1: none)",
            m.committed_ids_covered_above.clone(),
        );
        r.register(
            "blocks_committed",
            "Blocks committed since the node started",
            m.blocks_committed.clone(),
        );
        r.register(
            "transactions_committed",
            "Transactions committed since the node started",
            m.txs_committed.clone(),
        );
        r.register(
            "transactions_admitted",
            "Client transactions admitted to the mempool",
            m.txs_admitted.clone(),
        );
        r.register(
            "transactions_refused",
            "Client transactions refused, by error code",
            m.txs_refused.clone(),
        );
        r.register_with_unit(
            "commit_latency",
            "From a block's proposal time to its commit here",
            Unit::Seconds,
            m.commit_latency.clone(),
        );
        r.register_with_unit(
            "commit_write",
            "Writing a committed block to storage",
            Unit::Seconds,
            m.commit_write.clone(),
        );
        r.register_with_unit(
            "finality_wait",
            "POST /v1/transactions?wait=final, request to answer",
            Unit::Seconds,
            m.finality_wait.clone(),
        );
        r.register(
            "verifications",
            "POST /v1/verify answers, by verdict",
            m.verifications.clone(),
        );
        r.register_with_unit(
            "verify",
            "POST /v1/verify, request to answer",
            Unit::Seconds,
            m.verify_latency.clone(),
        );
        r.register_with_unit(
            "p2p",
            "Bytes of the validators' protocol, by direction",
            Unit::Bytes,
            m.p2p_bytes.clone(),
        );
        r.register_with_unit(
            "p2p_inputs_queued",
            "Bytes of peers' messages waiting for the consensus driver",
            Unit::Bytes,
            m.p2p_inputs_queued_bytes.clone(),
        );
        r.register(
            "relay_batches_waiting",
            "Batches other validators forwarded, waiting for their signature checks",
            m.relay_batches_waiting.clone(),
        );
        m
    }

    /// A counter of the `label`-labelled family (`[("code", "mempool_full")]`).
    pub fn inc(family: &Family<Label, Counter>, name: &'static str, value: &'static str) {
        family.get_or_create(&[(name, value)]).inc();
    }

    /// The Prometheus text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail; an encoder error would be a bug in a metric's name.
        if let Err(e) = prometheus_text::encode(&mut text, &self.registry) {
            tracing::error!("metrics could not be encoded: {e}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_text_names_every_metric_with_its_unit_and_labels() {
        let m = Metrics::new();
        m.height.set(7);
        m.view_changes.inc();
        Metrics::inc(&m.txs_refused, "code", "mempool_full");
        m.commit_latency.observe(0.25);
        let text = m.encode();
        for line in [
            "lichen_height 7",
            "lichen_view_changes_total 1",
            "lichen_transactions_refused_total{code=\"mempool_full\"} 1",
            "lichen_commit_latency_seconds_count 1",
            "# TYPE lichen_storage_bytes gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
