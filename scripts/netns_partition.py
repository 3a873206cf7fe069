#!/usr/bin/env python3
"""Four validators on a slow, lossy network that splits in two and heals (issue 14).

Each validator runs as its own `lichen node run` process in a network namespace of its own,
joined to the others through a TUN device that this script serves as a switch: every packet
between validators is delayed by 30-80 ms and 1% are dropped (the kernel here has no netem).
A client namespace (no delay) runs the CLI.

  0. Without delay: a few licences, for comparison.
  1. Under latency and loss: licences issued with the CLI (which waits for finality), four at a
     time: the CLI's issue-to-final time p50/p99.
  2. A 2|2 partition (blackhole routes between {1, 2} and {3, 4}): licences submitted on both
     sides meanwhile. Neither side has a quorum, so no node's height may grow by more than the
     block already under way.
  3. The partition heals: every licence submitted during it commits; the time from healing to
     the next block.
  4. All four nodes reach the same height, with identical block hashes and state roots at every
     height, and every licence issued is on every node.

Run by scripts/netns.sh (which builds the CLI); `--quick` is what ./scripts/test.sh runs. Needs
root (network namespaces, /dev/net/tun). Every namespace it makes is removed at the end, pass
or fail.
"""

import argparse
import fcntl
import heapq
import json
import os
import random
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SUBNET = "10.77.0."
HTTP_PORT = 8080
P2P_PORT = 9100
NODES = 4
CLIENT = 10
DELAY_MS = (30, 80)
LOSS = 0.01
HELPER = r"""
import json, sys, urllib.request, urllib.error
for line in sys.stdin:
    url = line.strip()
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            out = {"status": r.status, "body": json.loads(r.read() or b"null")}
    except urllib.error.HTTPError as e:
        out = {"status": e.code, "body": None}
    except Exception as e:
        out = {"status": 0, "error": str(e)}
    print(json.dumps(out), flush=True)
"""
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Net:
    """A namespace per host (validators 1-4, the client), each with one TUN device whose other
    end is this process: a switch in user space that delays every packet between validators by
    30-80 ms (in order per pair of hosts), drops 1% of them, and drops every packet across the
    partition while it is on. (The kernel here has no netem; a switch of our own does the same
    to the packets, and the partition needs no routes.)"""

    def __init__(self):
        self.prefix = "lx%04x" % (os.getpid() & 0xFFFF)
        self.made = []
        self.fds = {}  # host number -> TUN fd
        self.partitioned = False
        self.delayed = False
        self.stopping = False
        self.stats = {"forwarded": 0, "dropped as lost": 0, "dropped by the partition": 0}
        self.thread = None

    def ns(self, name):
        return self.prefix + name

    def ip(self, host):
        return SUBNET + str(host)

    def up(self):
        hosts = list(range(1, NODES + 1)) + [CLIENT]
        for host in hosts:
            name = "c" if host == CLIENT else str(host)
            ns = self.ns(name)
            run("ip", "netns", "add", ns)
            self.made.append(ns)
            dev = self.prefix + "t" + name
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
            self.fds[host] = fd
            run("ip", "link", "set", dev, "netns", ns)
            run("ip", "netns", "exec", ns, "ip", "link", "set", dev, "name", "eth0")
            run("ip", "netns", "exec", ns, "ip", "addr", "add", self.ip(host) + "/24", "dev", "eth0")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        self.thread = threading.Thread(target=self.switch, daemon=True)
        self.thread.start()

    def side(self, host):
        return 0 if host in (1, 2) else 1

    def switch(self):
        by_fd = {fd: host for host, fd in self.fds.items()}
        queue = []  # (due, seq, destination fd, packet)
        last_due = {}
        seq = 0
        rng = random.Random(7)
        while not self.stopping:
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, fd, packet = heapq.heappop(queue)
                try:
                    os.write(fd, packet)
                except OSError:
                    pass
            timeout = max(0.0, queue[0][0] - now) if queue else 0.05
            ready, _, _ = select.select(list(by_fd), [], [], min(timeout, 0.05))
            for fd in ready:
                try:
                    packet = os.read(fd, 65536)
                except OSError:
                    continue
                if len(packet) < 20 or packet[0] >> 4 != 4:
                    continue  # IPv4 only
                src, dst = packet[15], packet[19]
                if dst not in self.fds or dst == by_fd[fd]:
                    continue
                validators = src != CLIENT and dst != CLIENT
                shaped = validators and self.delayed
                if validators and self.partitioned and self.side(src) != self.side(dst):
                    self.stats["dropped by the partition"] += 1
                    continue
                if shaped and rng.random() < LOSS:
                    self.stats["dropped as lost"] += 1
                    continue
                due = time.monotonic()
                if shaped:
                    due += rng.uniform(*DELAY_MS) / 1000
                    due = max(due, last_due.get((src, dst), 0.0))
                    last_due[(src, dst)] = due
                seq += 1
                heapq.heappush(queue, (due, seq, self.fds[dst], packet))
                self.stats["forwarded"] += 1

    def partition(self, on):
        self.partitioned = on

    def down(self):
        self.stopping = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        for fd in self.fds.values():
            os.close(fd)
        for ns in reversed(self.made):
            run("ip", "netns", "del", ns, check=False)


class Http:
    """GETs from the client namespace, through one long-lived helper process."""

    def __init__(self, net):
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", net.ns("c"), sys.executable, "-u", "-c", HELPER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def get(self, url):
        with self.lock:
            self.proc.stdin.write(url + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def percentile(sorted_values, p):
    return sorted_values[min(int(len(sorted_values) * p), len(sorted_values) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="the lichen CLI")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    before, during, after, split_s = (8, 4, 4, 6) if args.quick else (40, 12, 20, 15)
    lichen = os.path.abspath(args.bin)

    if os.geteuid() != 0:
        sys.exit("netns: needs root (network namespaces and /dev/net/tun)")
    work = tempfile.mkdtemp(prefix="lichen-netns-")
    net = Net()
    procs, http = [], None
    try:
        net.up()
        # The sample chain's files, with each node on its own address.
        shutil.copytree(os.path.join(ROOT, "genesis", "localnet"), work, dirs_exist_ok=True)
        for f in os.listdir(os.path.join(work, "keys")):
            os.chmod(os.path.join(work, "keys", f), 0o600)
        peer_ids = {}
        for i in range(1, NODES + 1):
            text = open(os.path.join(work, "node-%d.toml" % i)).read()
            for line in text.splitlines():
                if "/p2p/" in line:
                    port = int(line.split("/tcp/")[1].split("/")[0])
                    peer_ids[port - 9100] = line.split("/p2p/")[1].split('"')[0]
        for i in range(1, NODES + 1):
            peers = ",\n".join('  "/ip4/%s/tcp/%d/p2p/%s"' % (net.ip(j), P2P_PORT, peer_ids[j])
                               for j in range(1, NODES + 1) if j != i)
            config = """genesis = "genesis.json"
key = "keys/validator-{i}.key"
data_dir = "nodes/validator-{i}"

[http]
listen = "{ip}:{http}"

[network]
key = "keys/validator-{i}.p2p"
listen = ["/ip4/{ip}/tcp/{p2p}"]
peers = [
{peers},
]
""".format(i=i, ip=net.ip(i), http=HTTP_PORT, p2p=P2P_PORT, peers=peers)
            open(os.path.join(work, "node-%d.toml" % i), "w").write(config)
        for i in range(1, NODES + 1):
            log = open(os.path.join(work, "node-%d.log" % i), "w")
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns(str(i)), lichen, "--password-file",
                 os.path.join(work, "password.txt"), "node", "run", "--config",
                 os.path.join(work, "node-%d.toml" % i)],
                cwd=work, stdout=log, stderr=subprocess.STDOUT))
        http = Http(net)

        def node_url(i, path):
            return "http://%s:%d%s" % (net.ip(i), HTTP_PORT, path)

        def heights():
            out = []
            for i in range(1, NODES + 1):
                r = http.get(node_url(i, "/v1/status"))
                out.append(r["body"]["height"] if r.get("status") == 200 else None)
            return out

        deadline = time.time() + 60
        while True:
            statuses = [http.get(node_url(i, "/v1/status")) for i in range(1, NODES + 1)]
            if all(s.get("status") == 200 and s["body"].get("peers", 0) >= NODES - 1
                   for s in statuses):
                break
            for p in procs:
                if p.poll() is not None:
                    sys.exit("netns: a validator exited at start; see %s/node-*.log" % work)
            if time.time() > deadline:
                sys.exit("netns: the validators did not connect within 60 s: %s" % statuses)
            time.sleep(0.2)

        licence_file = os.path.join(work, "licence.pdf")
        open(licence_file, "wb").write(b"a licence file")

        def issue(node, licence_id):
            """Runs the CLI in the client namespace; (seconds, exit code, output)."""
            started = time.time()
            r = subprocess.run(
                ["ip", "netns", "exec", net.ns("c"), lichen, "--password-file",
                 os.path.join(work, "password.txt"), "issue", "--node", node_url(node, ""),
                 "--key", os.path.join(work, "keys", "market-bureau.key"),
                 "--agency", "market-bureau", "--type", "business", "--id", licence_id,
                 "--file", licence_file, "--holder-id", "holder " + licence_id],
                cwd=work, capture_output=True, text=True)
            return time.time() - started, r.returncode, r.stdout + r.stderr

        def issue_all(pairs):
            results = [None] * len(pairs)

            def worker(k):
                results[k] = issue(*pairs[k])
            threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(pairs))]
            for t in threads:
                t.start()
            return threads, results

        issued = []

        def issue_in_fours(prefix, count):
            """Four at a time, round-robin over the nodes: the sorted CLI times, and the total."""
            latencies = []
            started = time.time()
            for batch in range(0, count, 4):
                pairs = [(1 + (k % NODES), "%s-%04d" % (prefix, k))
                         for k in range(batch, min(batch + 4, count))]
                threads, results = issue_all(pairs)
                for t in threads:
                    t.join()
                for (node, lid), (secs, code, out) in zip(pairs, results):
                    if code != 0:
                        sys.exit("netns: issuing %s on node %d failed:\n%s" % (lid, node, out))
                    latencies.append(secs)
                    issued.append(lid)
            return sorted(latencies), time.time() - started

        # 0. No delay, for comparison (the CLI's time includes unsealing the key).
        plain, _ = issue_in_fours("NETNS-0", 4)
        # 1. Latency and loss.
        net.delayed = True
        latencies, phase1_s = issue_in_fours("NETNS-A", before)

        # 2. A 2|2 partition, with licences submitted on both sides.
        split_heights = heights()
        net.partition(True)
        split_at = time.time()
        pairs = [((1, 3)[k % 2], "NETNS-B-%04d" % k) for k in range(during)]
        threads, results = issue_all(pairs)
        grown = 0
        while time.time() < split_at + split_s:
            now = heights()
            grown = max(grown, max(h - s for h, s in zip(now, split_heights)
                                   if h is not None and s is not None))
            time.sleep(0.25)
        if grown > 1:
            sys.exit("netns: a side without a quorum committed %d blocks during the partition" % grown)

        # 3. Heal: everything submitted meanwhile commits.
        net.partition(False)
        healed_at = time.time()
        base = max(h for h in heights() if h is not None)
        first_block_s = None
        while first_block_s is None and time.time() < healed_at + 60:
            if any(h is not None and h > base for h in heights()):
                first_block_s = time.time() - healed_at
            else:
                time.sleep(0.1)
        for t in threads:
            t.join()
        all_final_s = time.time() - healed_at
        for (node, lid), (secs, code, out) in zip(pairs, results):
            if code != 0:
                sys.exit("netns: %s (submitted to node %d during the partition) did not commit:\n%s"
                         % (lid, node, out))
            issued.append(lid)
        pairs = [(1 + (k % NODES), "NETNS-C-%04d" % k) for k in range(after)]
        threads, results = issue_all(pairs)
        for t in threads:
            t.join()
        for (node, lid), (secs, code, out) in zip(pairs, results):
            if code != 0:
                sys.exit("netns: issuing %s after healing failed:\n%s" % (lid, out))
            issued.append(lid)

        # 4. One chain on every node.
        deadline = time.time() + 60
        while True:
            hs = heights()
            if None not in hs and len(set(hs)) == 1:
                break
            if time.time() > deadline:
                sys.exit("netns: the nodes did not converge: heights %s" % hs)
            time.sleep(0.2)
        top = hs[0]
        for h in range(1, top + 1):
            seen = set()
            for i in range(1, NODES + 1):
                r = http.get(node_url(i, "/v1/blocks/%d" % h))
                header = r["body"]["block"]["header"]
                seen.add((header["hash"], header["state_root"]))
            if len(seen) != 1:
                sys.exit("netns: nodes differ at height %d: %s" % (h, seen))
        for lid in issued:
            for i in range(1, NODES + 1):
                r = http.get(node_url(i, "/v1/licences/" + lid))
                if r.get("status") != 200:
                    sys.exit("netns: licence %s is missing on node %d (%s)" % (lid, i, r))
        for p in procs:
            if p.poll() is not None:
                sys.exit("netns: a validator died; see %s/node-*.log" % work)

        print("netns: 4 validators in namespaces of their own; every packet between them delayed "
              "%d-%d ms and %.0f%% dropped; the chain of genesis/localnet" % (DELAY_MS + (100 * LOSS,)))
        print("netns: switch: %s" % ", ".join("%d %s" % (v, k) for k, v in net.stats.items()))
        print("netns: phase 0: 4 licences without delay or loss: CLI issue-to-final p50 %.0f ms"
              % (1000 * percentile(plain, 0.5)))
        print("netns: phase 1: %d licences (4 at a time) in %.1f s; CLI issue-to-final p50 %.0f ms, p99 %.0f ms"
              % (before, phase1_s, 1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.99)))
        print("netns: phase 2: 2|2 partition for %d s with %d licences submitted on both sides: "
              "heights grew by at most %d" % (split_s, during, grown))
        print("netns: phase 3: healed; next block after %.1f s, all %d partition licences final after %.1f s"
              % (first_block_s if first_block_s is not None else float("nan"), during, all_final_s))
        print("netns: phase 4: %d more licences; all 4 nodes at height %d with identical block hashes "
              "and state roots at every height; all %d licences on every node" % (after, top, len(issued)))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if http is not None:
            http.close()
        net.down()
        if os.environ.get("LICHEN_NETNS_KEEP"):
            print("netns: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
