#!/usr/bin/env bash
# Interop with an unmodified stock ZeroTier One acting as the root, across Linux network
# namespaces (stock nodes refuse loopback paths, so a lab on 127.0.0.1 cannot host one).
#
#   sudo ZT_STOCK_ONE=/path/to/zerotier-one bash test/interop/stock-root-netns.sh
#
# Needs root (ip netns), a built project (dist/ and the addon) and a stock zerotier-one
# binary given by path; it only runs that binary, it builds nothing. Not part of npm test.
#
# Topology (nothing routes anywhere else; IPv6 is off on these links):
#
#   zts-root: br0 10.77.0.1/24, stock zerotier-one on UDP 9993
#      ├── veth ── zts-a: veth0 10.77.0.2/24, our node A (the CLI: zerotier-sockets node)
#      └── veth ── zts-b: veth0 10.77.0.3/24, our node B (echo-peer.cjs, ECHOes A)
#
# Checks: each node of ours is online < ONLINE_LIMIT_MS after its process starts; the
# stock root lists each as a peer with a direct path 10.77.0.x/<its port>; B's ECHOes to
# A get answers, the first relayed by the stock root, then direct after RENDEZVOUS.
# Prints a JSON summary line and human lines; exit 0 only when every check passes.
# Environment: ZT_STOCK_ONE (default /opt/zt-stock/bin/zerotier-one), ONLINE_LIMIT_MS
# (2000), KEEP_DIR=1 keeps the work directory (logs, stock home) for a look afterwards,
# CAPTURE=1 also records UDP on veth0 in zts-a and zts-b (tcpdump or tshark) into
# a.pcap / b.pcap there (and keeps the directory).
set -euo pipefail

ZT_STOCK_ONE=${ZT_STOCK_ONE:-/opt/zt-stock/bin/zerotier-one}
ONLINE_LIMIT_MS=${ONLINE_LIMIT_MS:-2000}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLI="$REPO/dist/cli/main.js"
ECHO_PEER="$REPO/test/interop/echo-peer.cjs"
NODE=$(command -v node)
NETNS=(zts-root zts-a zts-b)
ROOT_IP=10.77.0.1
ROOT_PORT=9993

die() {
  echo "stock-root-netns: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "run as root (it creates network namespaces)"
[[ -x $ZT_STOCK_ONE ]] || die "no stock zerotier-one at $ZT_STOCK_ONE (set ZT_STOCK_ONE)"
[[ -f $CLI ]] || die "$CLI missing: build the project first (npm run build)"
for n in "${NETNS[@]}"; do
  if ip netns list | grep -qw "^$n"; then die "namespace $n exists already (a previous run?)"; fi
done

WORK=$(mktemp -d /tmp/zts-interop.XXXXXX)
HOME_ROOT=$WORK/root
PIDS=()

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
  if [[ ${KEEP_DIR:-0} == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# Prefixes each line read with the wall clock in ms (no process per line).
stamp() {
  local line
  while IFS= read -r line; do printf '%s %s\n' "$(now_ms)" "$line"; done
}

# wait_line <file> <extended regex> <timeout ms>: prints the first matching line.
wait_line() {
  local file=$1 re=$2 end=$(($(now_ms) + $3)) line
  while :; do
    if line=$(grep -m1 -E -- "$re" "$file" 2>/dev/null); then
      echo "$line"
      return 0
    fi
    (($(now_ms) < end)) || return 1
    sleep 0.02
  done
}

stock_cli() { ip netns exec zts-root "$ZT_STOCK_ONE" -q "-D$HOME_ROOT" "-p$ROOT_PORT" "$@"; }

# --- 1. namespaces: a bridge in zts-root, one veth per node of ours ----------------------
log "namespaces ${NETNS[*]} on 10.77.0.0/24"
for n in "${NETNS[@]}"; do
  ip netns add "$n"
  ip -n "$n" link set lo up
done
ip -n zts-root link add br0 type bridge
ip netns exec zts-root sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
ip -n zts-root addr add "$ROOT_IP/24" dev br0
ip -n zts-root link set br0 up
host=2
for n in a b; do
  ip link add "zts-$n-br" netns zts-root type veth peer name veth0 netns "zts-$n"
  ip netns exec zts-root sysctl -qw "net.ipv6.conf.zts-$n-br.disable_ipv6=1"
  ip netns exec "zts-$n" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
  ip -n zts-root link set "zts-$n-br" master br0 up
  ip -n "zts-$n" addr add "10.77.0.$host/24" dev veth0
  ip -n "zts-$n" link set veth0 up
  host=$((host + 1))
done
for n in "${NETNS[@]}"; do
  if ip -n "$n" route show default | grep -q .; then die "namespace $n has a default route"; fi
done

if [[ ${CAPTURE:-0} == 1 ]]; then
  KEEP_DIR=1
  for n in a b; do
    if command -v tcpdump >/dev/null; then
      ip netns exec "zts-$n" tcpdump -i veth0 -U -w "$WORK/$n.pcap" udp 2>"$WORK/$n.pcap.log" &
    elif command -v tshark >/dev/null; then
      ip netns exec "zts-$n" tshark -i veth0 -w "$WORK/$n.pcap" -f udp >"$WORK/$n.pcap.log" 2>&1 &
    else
      die "CAPTURE=1 needs tcpdump or tshark"
    fi
    PIDS+=("$!")
  done
  sleep 1.5 # let the capture start
fi

# --- 2. the stock root: identity, our planet naming it, restart on that planet -----------
mkdir -p "$HOME_ROOT"
# No TCP relay fallback and no UPnP/NAT-PMP: nothing to reach outside the lab anyway.
echo '{"settings":{"allowTcpFallbackRelay":false,"portMappingEnabled":false}}' \
  >"$HOME_ROOT/local.conf"

start_stock() {
  ip netns exec zts-root "$ZT_STOCK_ONE" -U "-p$ROOT_PORT" "$HOME_ROOT" \
    >>"$WORK/stock.log" 2>&1 &
  STOCK_PID=$!
  PIDS+=("$STOCK_PID")
  # 1.14.1 sometimes aborts on SIGTERM ("terminate called without an active exception"
  # in stock.log) once its state is saved: harmless here, and no job notice for it.
  disown "$STOCK_PID"
}
stop_stock() {
  kill "$STOCK_PID"
  for _ in $(seq 100); do
    if ! kill -0 "$STOCK_PID" 2>/dev/null; then
      local kept=() pid
      for pid in "${PIDS[@]}"; do [[ $pid == "$STOCK_PID" ]] || kept+=("$pid"); done
      PIDS=("${kept[@]}")
      return 0
    fi
    sleep 0.1
  done
  die "stock zerotier-one did not stop"
}

log "stock root: first start to make its identity"
start_stock
for _ in $(seq 300); do [[ -s $HOME_ROOT/identity.public ]] && break; sleep 0.1; done
[[ -s $HOME_ROOT/identity.public ]] || die "stock zerotier-one made no identity: $(cat "$WORK/stock.log")"
# Stop it once it serves its API (a stop in mid-start can abort it).
for _ in $(seq 100); do stock_cli info >/dev/null 2>&1 && break; sleep 0.1; done
stop_stock
ROOT_ADDR=$(cut -d: -f1 "$HOME_ROOT/identity.public")

"$NODE" "$CLI" planet make --root "$HOME_ROOT/identity.public=$ROOT_IP/$ROOT_PORT" \
  --key "$WORK/planet.key" --out "$HOME_ROOT/planet" >&2
PLANET_ID=$("$NODE" "$CLI" planet show "$HOME_ROOT/planet" --json |
  "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')

log "stock root $ROOT_ADDR: second start on planet $PLANET_ID"
start_stock
info=""
for _ in $(seq 100); do
  info=$(stock_cli -j info 2>/dev/null) && [[ $info == *'"planetWorldId"'* ]] && break
  sleep 0.1
done
stock_planet=$(echo "$info" | "$NODE" -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).planetWorldId))')
[[ $stock_planet == "$PLANET_ID" ]] || die "stock root runs planet '$stock_planet', not ours ($PLANET_ID)"
log "stock root $ROOT_ADDR is up on our planet ($(stock_cli info))"

# --- helpers for our nodes ---------------------------------------------------------------

# start_ours <name> <namespace> <command...>: sets <name>_T0, <name>_PID, <name>_LOG.
start_ours() {
  local name=$1 ns=$2
  shift 2
  local out="$WORK/$name.log"
  : >"$out"
  printf -v "${name}_T0" '%s' "$(now_ms)"
  ip netns exec "$ns" "$@" > >(stamp >"$out") 2>"$WORK/$name.err" &
  printf -v "${name}_PID" '%s' "$!"
  PIDS+=("$!")
  printf -v "${name}_LOG" '%s' "$out"
}

# json_field <stamped line> <field>
json_field() {
  "$NODE" -e 'const l=process.argv[1];const o=JSON.parse(l.slice(l.indexOf(" ")+1));
    const v=o[process.argv[2]];console.log(v===undefined?"":v)' "$1" "$2"
}

# online_ms <name>: ms from the process start to its "online" line (dies after 10 s).
online_ms() {
  local name=$1 t0_var="${1}_T0" log_var="${1}_LOG" line
  line=$(wait_line "${!log_var}" '"event":"online"' 10000) ||
    die "$name: not online in 10 s; stdout: $(cat "${!log_var}"); stderr: $(cat "$WORK/$name.err")"
  echo $((${line%% *} - ${!t0_var}))
}

# root_path <address> <ip>: the direct path the stock root lists for that peer ("" if none).
root_path() {
  stock_cli -j peers | "$NODE" -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      const p=JSON.parse(s).find(x=>x.address===process.argv[1]);
      const paths=(p?p.paths:[]).filter(x=>!x.expired&&x.address.startsWith(process.argv[2]+"/"));
      console.log([...new Set(paths.map(x=>x.address))].join(","));
    })' "$1" "$2"
}

# --- 3. node A: our CLI node in zts-a ----------------------------------------------------
log "node A (CLI) in zts-a"
start_ours A zts-a "$NODE" "$CLI" node --storage "$WORK/a" --planet "$HOME_ROOT/planet" \
  --json --stats 500
A_ONLINE_MS=$(online_ms A)
started=$(wait_line "$A_LOG" '"event":"started"' 0)
A_ADDR=$(json_field "$started" address)
A_PORT=$(json_field "$started" port)
A_STARTED_MS=$((${started%% *} - A_T0))
log "node A $A_ADDR (UDP $A_PORT) started after $A_STARTED_MS ms, online after $A_ONLINE_MS ms"
A_ROOT_PATH=""
for _ in $(seq 50); do
  A_ROOT_PATH=$(root_path "$A_ADDR" 10.77.0.2)
  [[ -n $A_ROOT_PATH ]] && break
  sleep 0.1
done
log "stock root lists A with path: ${A_ROOT_PATH:-none}"

# --- 4. node B: echo-peer.cjs in zts-b, ECHO to A through the stock root -----------------
# A stock node validates at most one new identity per 2 s per source /24 (HELLOs beyond
# are dropped silently); A and B share 10.77.0.0/24, so B starts B_GAP_MS (2100) after A
# came online (B_GAP_MS=0 shows the stock limit: B's first HELLOs go unanswered).
A_ONLINE_AT=$(($(wait_line "$A_LOG" '"event":"online"' 0 | cut -d' ' -f1)))
wait_until=$((A_ONLINE_AT + ${B_GAP_MS:-2100}))
while (($(now_ms) < wait_until)); do sleep 0.05; done
log "node B (echo-peer.cjs) in zts-b"
start_ours B zts-b "$NODE" "$ECHO_PEER" --storage "$WORK/b" --planet "$HOME_ROOT/planet" \
  --peer "$A_ADDR"
B_ONLINE_MS=$(online_ms B)
started=$(wait_line "$B_LOG" '"event":"started"' 0)
B_ADDR=$(json_field "$started" address)
B_PORT=$(json_field "$started" port)
B_STARTED_MS=$((${started%% *} - B_T0))
log "node B $B_ADDR (UDP $B_PORT) started after $B_STARTED_MS ms, online after $B_ONLINE_MS ms"
B_ROOT_PATH=""
for _ in $(seq 50); do
  B_ROOT_PATH=$(root_path "$B_ADDR" 10.77.0.3)
  [[ -n $B_ROOT_PATH ]] && break
  sleep 0.1
done
log "stock root lists B with path: ${B_ROOT_PATH:-none}"

done_line=$(wait_line "$B_LOG" '"event":"(echo-done|error)"' 30000) ||
  die "node B finished no echoes; stdout: $(cat "$B_LOG"); stderr: $(cat "$WORK/B.err")"
sleep 0.3 # A's own 'path' line for B, if any, and a last stats line
A_PATH_TO_B=$(grep -m1 -E "\"event\":\"path\",\"address\":\"$B_ADDR\"" "$A_LOG" || true)
A_PATH_TO_B=${A_PATH_TO_B:+$(json_field "$A_PATH_TO_B" path)}
B_PATH_TO_A=$(grep -m1 -E "\"event\":\"path\".*\"address\":\"$A_ADDR\"" "$B_LOG" || true)
B_PATH_TO_A=${B_PATH_TO_A:+$(json_field "$B_PATH_TO_A" path)}

# --- 5. summary --------------------------------------------------------------------------
# shellcheck disable=SC2016 # JavaScript template literals, not shell
SUMMARY=$("$NODE" -e '
  const [limit, aStart, bStart, aMs, bMs, aAddr, bAddr, aPort, bPort, aRoot, bRoot, aToB, bToA, done, root] =
    process.argv.slice(1);
  const d = JSON.parse(done.slice(done.indexOf(" ") + 1));
  const relayed = d.relayed || [], direct = d.direct || [];
  const ok = (x) => x !== null;
  const checks = {
    aOnline: Number(aMs) < Number(limit),
    bOnline: Number(bMs) < Number(limit),
    rootSeesA: aRoot.split(",").includes(`10.77.0.2/${aPort}`),
    rootSeesB: bRoot.split(",").includes(`10.77.0.3/${bPort}`),
    echoRelayed: relayed.length > 0 && relayed.some(ok),
    echoDirect: direct.length > 0 && direct.every(ok),
    directPath: Boolean(bToA),
  };
  console.log(JSON.stringify({
    stockRoot: root,
    onlineLimitMs: Number(limit),
    nodes: [
      { name: "A", address: aAddr, port: Number(aPort), startedMs: Number(aStart), onlineMs: Number(aMs), rootPath: aRoot || null, directPathToPeer: aToB || null },
      { name: "B", address: bAddr, port: Number(bPort), startedMs: Number(bStart), onlineMs: Number(bMs), rootPath: bRoot || null, directPathToPeer: bToA || null },
    ],
    echo: { from: "B", to: "A", relayedRtts: relayed, directRtts: direct, error: d.event === "error" ? d : undefined },
    checks,
    pass: Object.values(checks).every(Boolean),
  }));
' "$ONLINE_LIMIT_MS" "$A_STARTED_MS" "$B_STARTED_MS" "$A_ONLINE_MS" "$B_ONLINE_MS" "$A_ADDR" "$B_ADDR" "$A_PORT" "$B_PORT" \
  "$A_ROOT_PATH" "$B_ROOT_PATH" "$A_PATH_TO_B" "$B_PATH_TO_A" "$done_line" "$ROOT_ADDR")

echo "$SUMMARY"
# shellcheck disable=SC2016
"$NODE" -e '
  const s = JSON.parse(process.argv[1]);
  const yn = (b) => (b ? "yes" : "NO");
  console.log(`stock root ${s.stockRoot} (unmodified zerotier-one), online limit ${s.onlineLimitMs} ms`);
  for (const n of s.nodes) {
    console.log(`node ${n.name} ${n.address}: online after ${n.onlineMs} ms (process up and identity ready after ${n.startedMs} ms); stock root sees a direct path: ${yn(s.checks["rootSees" + n.name])} (${n.rootPath ?? "none"})`);
  }
  const ms = (a) => (a.length ? a.map((x) => (x === null ? "lost" : `${x} ms`)).join(", ") : "none");
  console.log(`echo B -> A relayed by the stock root: ${ms(s.echo.relayedRtts)}`);
  console.log(`echo B -> A direct after RENDEZVOUS (B to A ${s.nodes[1].directPathToPeer ?? "none"}, A to B ${s.nodes[0].directPathToPeer ?? "none"}): ${ms(s.echo.directRtts)}`);
  console.log(s.pass ? "PASS" : `FAIL: ${Object.entries(s.checks).filter(([, v]) => !v).map(([k]) => k).join(", ")}`);
  process.exit(s.pass ? 0 : 1);
' "$SUMMARY"
