#!/usr/bin/env bash
# Networks (VL2) and TCP with stock ZeroTier software, across Linux network namespaces
# (stock nodes refuse loopback paths, so nothing here runs on 127.0.0.1 but HTTP APIs).
#
#   sudo ZT_STOCK_ONE=/path/to/zerotier-one ZT_LIBZT_ECHO=/path/to/zt-echo \
#     bash test/interop/stock-network-netns.sh
#
# Needs root (ip netns), curl, a built project (dist/ and the addon). It only runs the
# stock binaries given by path and builds nothing; a part whose binary is absent is skipped
# (and reported as skipped). Not part of npm test.
#
#   ZT_STOCK_ONE   an unmodified zerotier-one (default /opt/zt-stock/bin/zerotier-one): the
#                  root and, with its embedded controller, the network controller of part 1
#   ZT_LIBZT_ECHO  a small program on stock libzt (not in this repository) taking
#                    <storage> <planet file> <nwid> [listen <port> <n>] [connect <ip> <port> <rounds> <size>]...
#                  that starts a node from <storage> with the planet's roots
#                  (zts_init_from_storage, zts_init_set_roots), joins <nwid>, prints
#                  {"event":"online","address":..}, {"event":"ready","address":<its IPv4>}
#                  and for each action {"event":"echoed",..} (listen: echoes n TCP
#                  connections in turn) or {"event":"echo-done","intact":..,"closedCleanly":..}
#                  (connect), one JSON object per line, and exits 0 when all succeeded
#
# Topology (a bridge in zts-root, nothing routes anywhere else, IPv6 off on these links):
#
#   zts-root 10.77.0.1  stock zerotier-one: root of planet 1 and controller of network S
#   zts-lab  10.77.0.5  test/interop/ns-lab.cjs: our root of planet 2 + controller of network L
#   zts-a    10.77.0.2  our nodes: the CLI node (part 1) and tcp-client.cjs
#   zts-b    10.77.0.3  our echo server: test/helpers/peer-node.cjs (TCP 7000)
#   zts-c    10.77.0.4  the libzt node (ZT_LIBZT_ECHO), echo server on TCP 7100
#
# Part 1, the stock controller (ZT_STOCK_ONE): the stock node answers its controller API; a
# network made through it (pool 10.147.17.10-250, route 10.147.17.0/24, v4AssignMode zt);
# our CLI node joins, is authorized through the API and prints status OK with the address
# in the controller's member record, then the DNS setting made through the stock API; our
# tcp-client.cjs and peer-node.cjs exchange TCP;
# with ZT_LIBZT_ECHO, the libzt node gets its address and exchanges TCP with ours both ways.
# Part 2, our controller (ns-lab.cjs) with the libzt node (ZT_LIBZT_ECHO): the libzt node
# joins, is authorized after it asked, gets the member record's address, and exchanges
# TCP with ours both ways (and our two nodes too, as a reference).
#
# Prints a JSON summary line, then one line per check and PASS or FAIL (exit 0 or 1).
# KEEP_DIR=1 keeps the work directory (logs, homes); CAPTURE=1 also records UDP on each
# namespace's link (tcpdump or tshark) into <ns>.pcap there, for `zerotier-sockets inspect`.
# Stock nodes validate at most one new identity per 2 s per source /24, so the nodes start
# GAP_MS (2300) apart.
set -euo pipefail

ZT_STOCK_ONE=${ZT_STOCK_ONE:-/opt/zt-stock/bin/zerotier-one}
ZT_LIBZT_ECHO=${ZT_LIBZT_ECHO:-}
GAP_MS=${GAP_MS:-2300}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLI="$REPO/dist/cli/main.js"
PEER_NODE="$REPO/test/helpers/peer-node.cjs"
TCP_CLIENT="$REPO/test/interop/tcp-client.cjs"
NS_LAB="$REPO/test/interop/ns-lab.cjs"
NODE=$(command -v node)
NETNS=(zts-root zts-lab zts-a zts-b zts-c)
STOCK_IP=10.77.0.1
LAB_IP=10.77.0.5
ZT_PORT=9993

die() {
  echo "stock-network-netns: $*" >&2
  exit 1
}
log() { echo "== $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "run as root (it creates network namespaces)"
[[ -f $CLI ]] || die "$CLI missing: build the project first (npm run build)"
command -v curl >/dev/null || die "curl is needed (the controllers' HTTP APIs)"
HAVE_STOCK=0
HAVE_LIBZT=0
[[ -x $ZT_STOCK_ONE ]] && HAVE_STOCK=1
[[ -n $ZT_LIBZT_ECHO && -x $ZT_LIBZT_ECHO ]] && HAVE_LIBZT=1
for n in "${NETNS[@]}"; do
  if ip netns list | grep -qw "^$n"; then die "namespace $n exists already (a previous run?)"; fi
done

WORK=$(mktemp -d /tmp/zts-network.XXXXXX)
PIDS=()
RESULTS=() # one JSON object per check

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
sleep_until() { while (($(now_ms) < $1)); do sleep 0.02; done; }

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

# js <expression over `o`> <json>: evaluates a JavaScript expression on a JSON document
# (a stamped line's JSON part works too) and prints it ("" for undefined/null).
js() {
  "$NODE" -e 'let s=process.argv[2];const i=s.indexOf("{");const o=JSON.parse(s.slice(i));
    const v=(0,eval)("(o)=>("+process.argv[1]+")")(o);
    console.log(v===undefined||v===null?"":typeof v==="object"?JSON.stringify(v):v)' "$1" "$2"
}

# check <name> <true|false> <detail JSON>
check() {
  RESULTS+=("$("$NODE" -e 'console.log(JSON.stringify({check:process.argv[1],pass:process.argv[2]==="true",...JSON.parse(process.argv[3])}))' "$1" "$2" "$3")")
  log "check $1: $([[ $2 == true ]] && echo pass || echo FAIL) $3"
}
skip() {
  RESULTS+=("$("$NODE" -e 'console.log(JSON.stringify({check:process.argv[1],pass:null,skipped:process.argv[2]}))' "$1" "$2")")
  log "skip $1: $2"
}

# start_proc <name> <namespace> <command...>: runs in the background, stdout stamped into
# $WORK/<name>.log, stderr into $WORK/<name>.err; sets <name>_T0 and <name>_PID.
start_proc() {
  local name=$1 ns=$2
  shift 2
  : >"$WORK/$name.log"
  printf -v "${name}_T0" '%s' "$(now_ms)"
  ip netns exec "$ns" "$@" > >(stamp >"$WORK/$name.log") 2>"$WORK/$name.err" &
  printf -v "${name}_PID" '%s' "$!"
  PIDS+=("$!")
}
# wait_proc <name> <timeout ms>: waits for it to exit and sets RC to its exit code (124 on
# timeout). Not in a subshell: only this shell can wait for its children.
wait_proc() {
  local pid_var="${1}_PID" end=$(($(now_ms) + $2))
  while kill -0 "${!pid_var}" 2>/dev/null; do
    if (($(now_ms) > end)); then
      kill "${!pid_var}" 2>/dev/null
      RC=124
      return 0
    fi
    sleep 0.05
  done
  RC=0
  wait "${!pid_var}" 2>/dev/null || RC=$?
}
proc_out() { cat "$WORK/$1.log" "$WORK/$1.err" 2>/dev/null | tail -n 30; }

# A root validates at most one new identity per 2 s per source /24 (stock nodes do, and so
# does ours): every node with a new identity starts GAP_MS after the previous one said hello.
LAST_NEW_AT=0
gap_wait() { sleep_until $((LAST_NEW_AT + GAP_MS)); }
# said_hello <name> <regex of its first line after its HELLO went out>
said_hello() {
  local log_var="${1}_T0" line
  line=$(wait_line "$WORK/$1.log" "$2" 30000) || line="${!log_var} "
  LAST_NEW_AT=${line%% *}
}

# api <namespace> <token file> <method> <path> [body]: the controller's HTTP API.
api() {
  local ns=$1 token=$2 method=$3 path=$4 data=()
  [[ -n ${5:-} ]] && data=(-d "$5")
  ip netns exec "$ns" curl -sS --max-time 10 -X "$method" -H "X-ZT1-Auth: $(cat "$token")" \
    "${data[@]}" "http://127.0.0.1:$ZT_PORT$path"
}

# new_identity <dir>: an identity made by our idtool; prints its address.
new_identity() {
  mkdir -p "$1"
  "$NODE" "$CLI" idtool generate "$1/identity.secret" "$1/identity.public" >/dev/null
  cut -d: -f1 "$1/identity.public"
}

# network_body <name> <first three octets>: a private network, pool .10-.250, route /24.
network_body() {
  printf '{"name":"%s","private":true,"ipAssignmentPools":[{"ipRangeStart":"%s.10","ipRangeEnd":"%s.250"}],"routes":[{"target":"%s.0/24","via":null}],"v4AssignMode":{"zt":true}}' \
    "$1" "$2" "$2" "$2"
}

# --- namespaces: a bridge in zts-root, one veth per other namespace -----------------------
log "namespaces ${NETNS[*]} on 10.77.0.0/24"
for n in "${NETNS[@]}"; do
  ip netns add "$n"
  ip -n "$n" link set lo up
done
ip -n zts-root link add br0 type bridge
ip netns exec zts-root sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
ip -n zts-root addr add "$STOCK_IP/24" dev br0
ip -n zts-root link set br0 up
declare -A HOST_IP=([lab]=$LAB_IP [a]=10.77.0.2 [b]=10.77.0.3 [c]=10.77.0.4)
for n in lab a b c; do
  ip link add "zts-$n-br" netns zts-root type veth peer name veth0 netns "zts-$n"
  ip netns exec zts-root sysctl -qw "net.ipv6.conf.zts-$n-br.disable_ipv6=1"
  ip netns exec "zts-$n" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
  ip -n zts-root link set "zts-$n-br" master br0 up
  ip -n "zts-$n" addr add "${HOST_IP[$n]}/24" dev veth0
  ip -n "zts-$n" link set veth0 up
done
for n in "${NETNS[@]}"; do
  if ip -n "$n" route show default | grep -q .; then die "namespace $n has a default route"; fi
done

if [[ ${CAPTURE:-0} == 1 ]]; then
  KEEP_DIR=1
  for n in root lab a b c; do
    dev=veth0
    [[ $n == root ]] && dev=br0
    if command -v tcpdump >/dev/null; then
      ip netns exec "zts-$n" tcpdump -i "$dev" -s 0 -U -w "$WORK/$n.pcap" udp 2>"$WORK/$n.pcap.log" &
    elif command -v tshark >/dev/null; then
      ip netns exec "zts-$n" tshark -i "$dev" -F pcap -w "$WORK/$n.pcap" -f udp >"$WORK/$n.pcap.log" 2>&1 &
    else
      die "CAPTURE=1 needs tcpdump or tshark"
    fi
    PIDS+=("$!")
  done
  sleep 2 # let the captures start
fi

# =========================================================================================
# Part 1: the stock zerotier-one as root and controller
# =========================================================================================
if ((HAVE_STOCK)); then
  HOME_ROOT=$WORK/stock
  mkdir -p "$HOME_ROOT"
  echo '{"settings":{"allowTcpFallbackRelay":false,"portMappingEnabled":false}}' \
    >"$HOME_ROOT/local.conf"
  stock_cli() { ip netns exec zts-root "$ZT_STOCK_ONE" -q "-D$HOME_ROOT" "-p$ZT_PORT" "$@"; }
  start_stock() {
    ip netns exec zts-root "$ZT_STOCK_ONE" -U "-p$ZT_PORT" "$HOME_ROOT" >>"$WORK/stock.log" 2>&1 &
    STOCK_PID=$!
    PIDS+=("$STOCK_PID")
    disown "$STOCK_PID" # 1.14.1 may abort on SIGTERM once its state is saved: harmless
  }

  log "stock: first start to make its identity"
  start_stock
  for _ in $(seq 300); do [[ -s $HOME_ROOT/identity.public ]] && break; sleep 0.1; done
  [[ -s $HOME_ROOT/identity.public ]] || die "stock zerotier-one made no identity: $(cat "$WORK/stock.log")"
  for _ in $(seq 100); do stock_cli info >/dev/null 2>&1 && break; sleep 0.1; done
  kill "$STOCK_PID"
  for _ in $(seq 100); do kill -0 "$STOCK_PID" 2>/dev/null || break; sleep 0.1; done
  STOCK_ADDR=$(cut -d: -f1 "$HOME_ROOT/identity.public")
  "$NODE" "$CLI" planet make --root "$HOME_ROOT/identity.public=$STOCK_IP/$ZT_PORT" \
    --key "$WORK/planet1.key" --out "$HOME_ROOT/planet" >&2
  PLANET1=$HOME_ROOT/planet
  log "stock $STOCK_ADDR: second start, on our planet naming it at $STOCK_IP/$ZT_PORT"
  start_stock
  STOCK_TOKEN=$HOME_ROOT/authtoken.secret
  ctl=""
  for _ in $(seq 100); do
    ctl=$(api zts-root "$STOCK_TOKEN" GET /controller 2>/dev/null) && [[ $ctl == *'"controller"'* ]] && break
    sleep 0.1
  done
  check stock-controller-api "$([[ $(js 'o.controller' "$ctl") == true ]] && echo true || echo false)" \
    "{\"url\":\"http://127.0.0.1:$ZT_PORT/controller\",\"version\":\"$(stock_cli info | cut -d' ' -f4)\",\"answer\":$(js 'o' "$ctl" || echo null)}"
  [[ $(js 'o.controller' "$ctl") == true ]] || die "the stock zerotier-one answers no controller API: $ctl"

  created=$(api zts-root "$STOCK_TOKEN" POST "/controller/network/${STOCK_ADDR}______" \
    "$(network_body stock-net 10.147.17)")
  NWID_S=$(js 'o.id' "$created")
  [[ $NWID_S =~ ^[0-9a-f]{16}$ ]] || die "network creation on the stock controller failed: $created"
  log "stock controller made network $NWID_S"

  # -- 1a. our CLI node joins, is authorized after it asked, gets the stock-assigned address
  start_proc A zts-a "$NODE" "$CLI" node --storage "$WORK/a" --planet "$PLANET1" \
    --join "$NWID_S" --json
  line=$(wait_line "$WORK/A.log" '"event":"online"' 10000) || die "node A not online: $(proc_out A)"
  A_ONLINE_AT=${line%% *}
  said_hello A '"event":"started"'
  A_ADDR=$(js 'o.address' "$line")
  member=""
  for _ in $(seq 150); do
    member=$(api zts-root "$STOCK_TOKEN" GET "/controller/network/$NWID_S/member/$A_ADDR" 2>/dev/null || true)
    [[ $member == *'"id"'* ]] && break
    sleep 0.1
  done
  [[ $member == *'"id"'* ]] || die "the stock controller never heard from node A ($A_ADDR): $(proc_out A)"
  A_ASKED_AT=$(now_ms)
  A_AUTH_BEFORE=$(js 'o.authorized' "$member")
  api zts-root "$STOCK_TOKEN" POST "/controller/network/$NWID_S/member/$A_ADDR" '{"authorized":true}' >/dev/null
  A_AUTH_AT=$(now_ms)
  line=$(wait_line "$WORK/A.log" '"event":"network".*"status":"OK"' 30000) || line=""
  A_OK_MS=$([[ -n $line ]] && echo $((${line%% *} - A_AUTH_AT)) || echo null)
  A_IPS=$([[ -n $line ]] && js 'o.addresses.map(a=>a.split("/")[0]).join(",")' "$line" || echo "")
  member=$(api zts-root "$STOCK_TOKEN" GET "/controller/network/$NWID_S/member/$A_ADDR")
  A_ASSIGNED=$(js 'o.ipAssignments.join(",")' "$member")
  check stock-net-cli-node-ok "$([[ -n $A_IPS && $A_IPS == "$A_ASSIGNED" ]] && echo true || echo false)" \
    "{\"network\":\"$NWID_S\",\"node\":\"$A_ADDR\",\"authorizedBeforeApi\":${A_AUTH_BEFORE:-null},\"memberSeenMsAfterOnline\":$((A_ASKED_AT - A_ONLINE_AT)),\"okMsAfterAuthorize\":$A_OK_MS,\"nodeAddresses\":\"${A_IPS}\",\"controllerIpAssignments\":\"$A_ASSIGNED\"}"
  log "node A: $(grep '"event":"network"' "$WORK/A.log" | cut -d' ' -f2- | tr '\n' ' ')"

  # -- 1a'. a DNS setting made through the stock API reaches our node as the stock
  # controller encodes it (the DNS blob): the CLI prints it with the network.
  api zts-root "$STOCK_TOKEN" POST "/controller/network/$NWID_S" \
    '{"dns":{"domain":"stock-net.home.arpa","servers":["10.147.17.1","fd00::53"]}}' >/dev/null
  line=$(wait_line "$WORK/A.log" '"event":"network".*"dns":{"domain":"stock-net.home.arpa"' 30000) || line=""
  A_DNS=$([[ -n $line ]] && js 'JSON.stringify(o.dns)' "$line" || echo null)
  check stock-net-dns-on-lease \
    "$([[ $A_DNS == '{"domain":"stock-net.home.arpa","servers":["10.147.17.1","fd00::53"]}' ]] && echo true || echo false)" \
    "{\"network\":\"$NWID_S\",\"nodeDns\":$A_DNS,\"stockNetworkDns\":$(js 'JSON.stringify(o.dns)' "$(api zts-root "$STOCK_TOKEN" GET "/controller/network/$NWID_S")")}"

  # -- 1b. two of ours exchange TCP on the stock-controlled network
  B_DIR=$WORK/b-stock
  B_ADDR=$(new_identity "$B_DIR")
  C_DIR=$WORK/client-stock
  C_ADDR=$(new_identity "$C_DIR")
  for m in "$B_ADDR" "$C_ADDR"; do
    api zts-root "$STOCK_TOKEN" POST "/controller/network/$NWID_S/member/$m" '{"authorized":true}' >/dev/null
  done
  gap_wait
  start_proc B zts-b "$NODE" "$PEER_NODE" "$PLANET1" "$B_DIR" "$NWID_S"
  said_hello B '"event":"started"'
  line=$(wait_line "$WORK/B.log" '"event":"ready"' 30000) || die "node B (peer-node.cjs) not ready: $(proc_out B)"
  B_IP=$(js 'o.addresses[0].split("/")[0]' "$line")
  B_ASSIGNED=$(js 'o.ipAssignments.join(",")' "$(api zts-root "$STOCK_TOKEN" GET "/controller/network/$NWID_S/member/$B_ADDR")")
  gap_wait
  start_proc C zts-a "$NODE" "$TCP_CLIENT" --storage "$C_DIR" --planet "$PLANET1" \
    --network "$NWID_S" --host "$B_IP" --port 7000
  said_hello C '"event":"started"'
  wait_proc C 60000
  rc=$RC
  done_line=$(grep -m1 '"event":"echo-done"' "$WORK/C.log" || true)
  ready_line=$(grep -m1 '"event":"ready"' "$WORK/C.log" || true)
  conn_line=$(grep -m1 '"event":"connected"' "$WORK/C.log" || true)
  check stock-net-tcp-ours "$([[ $rc == 0 ]] && echo true || echo false)" \
    "{\"server\":\"$B_ADDR $B_IP:7000 (peer-node.cjs; controller assigned $B_ASSIGNED)\",\"client\":\"$C_ADDR $( [[ -n $ready_line ]] && js 'o.addresses.join(",")' "$ready_line") (tcp-client.cjs)\",\"exit\":$rc,\"connectMs\":$( [[ -n $conn_line ]] && js 'o.connectMs' "$conn_line" || echo null),\"echo\":$( [[ -n $done_line ]] && js '({intact:o.intact,closedCleanly:o.closedCleanly,rounds:o.rounds,size:o.size,rttsMs:o.rttsMs})' "$done_line" || echo null)}"
  ((rc == 0)) || log "tcp-client: $(proc_out C)"

  # -- 1c. the libzt node on the stock-controlled network
  if ((HAVE_LIBZT)); then
    Z_DIR=$WORK/libzt-stock
    Z_ADDR=$(new_identity "$Z_DIR") # libzt reads identity.secret from its storage
    api zts-root "$STOCK_TOKEN" POST "/controller/network/$NWID_S/member/$Z_ADDR" '{"authorized":true}' >/dev/null
    gap_wait
    start_proc Z zts-c "$ZT_LIBZT_ECHO" "$Z_DIR" "$PLANET1" "$NWID_S" \
      listen 7100 1 connect "$B_IP" 7000 5 1000
    said_hello Z '"event":"online"'
    line=$(wait_line "$WORK/Z.log" '"event":"ready"' 60000) || line=""
    if [[ -z $line ]]; then
      check stock-net-libzt-ready false "{\"node\":\"$Z_ADDR\",\"output\":$(proc_out Z | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(s)))')}"
    else
      Z_IP=$(js 'o.address' "$line")
      Z_READY_MS=$((${line%% *} - Z_T0))
      Z_ASSIGNED=$(js 'o.ipAssignments.join(",")' "$(api zts-root "$STOCK_TOKEN" GET "/controller/network/$NWID_S/member/$Z_ADDR")")
      check stock-net-libzt-ready "$([[ $Z_IP == "$Z_ASSIGNED" ]] && echo true || echo false)" \
        "{\"node\":\"$Z_ADDR\",\"readyMsAfterStart\":$Z_READY_MS,\"libztAddress\":\"$Z_IP\",\"controllerIpAssignments\":\"$Z_ASSIGNED\"}"
      # ours -> libzt (the client's identity is known to the root by now: no new one)
      start_proc C2 zts-a "$NODE" "$TCP_CLIENT" --storage "$C_DIR" --planet "$PLANET1" \
        --network "$NWID_S" --host "$Z_IP" --port 7100
      wait_proc C2 60000
      rc=$RC
      done_line=$(grep -m1 '"event":"echo-done"' "$WORK/C2.log" || true)
      conn_line=$(grep -m1 '"event":"connected"' "$WORK/C2.log" || true)
      check stock-net-tcp-ours-to-libzt "$([[ $rc == 0 ]] && echo true || echo false)" \
        "{\"exit\":$rc,\"connectMs\":$( [[ -n $conn_line ]] && js 'o.connectMs' "$conn_line" || echo null),\"echo\":$( [[ -n $done_line ]] && js '({intact:o.intact,closedCleanly:o.closedCleanly,rounds:o.rounds,size:o.size,rttsMs:o.rttsMs})' "$done_line" || echo null)}"
      ((rc == 0)) || log "tcp-client: $(proc_out C2)"
      # libzt -> ours (peer-node.cjs in zts-b)
      wait_proc Z 60000
      rc=$RC
      done_line=$(grep -m1 '"event":"echo-done"' "$WORK/Z.log" || true)
      echoed=$(grep -m1 '"event":"echoed"' "$WORK/Z.log" || true)
      check stock-net-tcp-libzt-to-ours "$([[ $rc == 0 && -n $done_line ]] && echo true || echo false)" \
        "{\"exit\":$rc,\"libztEchoedBytes\":$( [[ -n $echoed ]] && js 'o.bytes' "$echoed" || echo null),\"echo\":$( [[ -n $done_line ]] && js 'o' "$done_line" || echo null)}"
      ((rc == 0)) || log "libzt: $(proc_out Z)"
    fi
  else
    skip stock-net-libzt "ZT_LIBZT_ECHO not set or not executable"
  fi
  STOCK_PEERS=$(stock_cli -j peers | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
    console.log(JSON.stringify(JSON.parse(s).map(p=>({address:p.address,version:p.version,paths:p.paths.filter(x=>!x.expired).map(x=>x.address)}))))})')
  log "stock root's peers: $STOCK_PEERS"
else
  skip stock-controller "no stock zerotier-one at $ZT_STOCK_ONE (set ZT_STOCK_ONE)"
fi

# =========================================================================================
# Part 2: our root + controller (ns-lab.cjs) and the libzt node
# =========================================================================================
LAB_DIR=$WORK/lab
LAB_ADDR=$(new_identity "$LAB_DIR")
"$NODE" "$CLI" planet make --root "$LAB_DIR/identity.public=$LAB_IP/$ZT_PORT" \
  --key "$WORK/planet2.key" --out "$WORK/planet2" >&2
PLANET2=$WORK/planet2
start_proc LAB zts-lab "$NODE" "$NS_LAB" --storage "$LAB_DIR" --planet "$PLANET2" --port "$ZT_PORT"
wait_line "$WORK/LAB.log" '"event":"ready"' 15000 >/dev/null || die "ns-lab.cjs not ready: $(proc_out LAB)"
LAB_TOKEN=$LAB_DIR/authtoken.secret
created=$(api zts-lab "$LAB_TOKEN" POST "/controller/network/${LAB_ADDR}______" \
  "$(network_body lab-net 10.147.18)")
NWID_L=$(js 'o.id' "$created")
[[ $NWID_L =~ ^[0-9a-f]{16}$ ]] || die "network creation on our controller failed: $created"
log "our controller $LAB_ADDR (ns-lab.cjs in zts-lab) made network $NWID_L"

LB_DIR=$WORK/b-lab
LB_ADDR=$(new_identity "$LB_DIR")
LC_DIR=$WORK/client-lab
LC_ADDR=$(new_identity "$LC_DIR")
for m in "$LB_ADDR" "$LC_ADDR"; do
  api zts-lab "$LAB_TOKEN" POST "/controller/network/$NWID_L/member/$m" '{"authorized":true}' >/dev/null
done
gap_wait
start_proc LB zts-b "$NODE" "$PEER_NODE" "$PLANET2" "$LB_DIR" "$NWID_L"
said_hello LB '"event":"started"'
line=$(wait_line "$WORK/LB.log" '"event":"ready"' 30000) || die "peer-node.cjs on the lab not ready: $(proc_out LB)"
LB_IP=$(js 'o.addresses[0].split("/")[0]' "$line")
gap_wait
start_proc LC zts-a "$NODE" "$TCP_CLIENT" --storage "$LC_DIR" --planet "$PLANET2" \
  --network "$NWID_L" --host "$LB_IP" --port 7000
said_hello LC '"event":"started"'
wait_proc LC 60000
rc=$RC
done_line=$(grep -m1 '"event":"echo-done"' "$WORK/LC.log" || true)
check lab-net-tcp-ours "$([[ $rc == 0 ]] && echo true || echo false)" \
  "{\"network\":\"$NWID_L\",\"server\":\"$LB_ADDR $LB_IP:7000\",\"client\":\"$LC_ADDR\",\"exit\":$rc,\"echo\":$( [[ -n $done_line ]] && js '({intact:o.intact,closedCleanly:o.closedCleanly,rttsMs:o.rttsMs})' "$done_line" || echo null)}"

if ((HAVE_LIBZT)); then
  # The libzt node makes its own identity here; it is authorized once it has asked.
  LZ_DIR=$WORK/libzt-lab
  mkdir -p "$LZ_DIR"
  gap_wait
  start_proc LZ zts-c "$ZT_LIBZT_ECHO" "$LZ_DIR" "$PLANET2" "$NWID_L" \
    listen 7100 1 connect "$LB_IP" 7000 5 1000
  line=$(wait_line "$WORK/LZ.log" '"event":"online"' 30000) || die "libzt node not online on our root: $(proc_out LZ)"
  LZ_ONLINE_MS=$((${line%% *} - LZ_T0))
  LZ_ADDR=$(js 'o.address' "$line")
  member=""
  for _ in $(seq 150); do
    member=$(api zts-lab "$LAB_TOKEN" GET "/controller/network/$NWID_L/member/$LZ_ADDR" 2>/dev/null || true)
    [[ $member == *'"id"'* ]] && break
    sleep 0.1
  done
  LZ_AUTH_BEFORE=$(js 'o.authorized' "$member" 2>/dev/null || echo null)
  api zts-lab "$LAB_TOKEN" POST "/controller/network/$NWID_L/member/$LZ_ADDR" '{"authorized":true}' >/dev/null
  LZ_AUTH_AT=$(now_ms)
  line=$(wait_line "$WORK/LZ.log" '"event":"ready"' 60000) || line=""
  if [[ -z $line ]]; then
    check lab-net-libzt-ready false "{\"node\":\"$LZ_ADDR\",\"output\":$(proc_out LZ | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(s)))')}"
  else
    LZ_IP=$(js 'o.address' "$line")
    LZ_ASSIGNED=$(js 'o.ipAssignments.join(",")' "$(api zts-lab "$LAB_TOKEN" GET "/controller/network/$NWID_L/member/$LZ_ADDR")")
    check lab-net-libzt-ready "$([[ $LZ_IP == "$LZ_ASSIGNED" && $LZ_AUTH_BEFORE == false ]] && echo true || echo false)" \
      "{\"node\":\"$LZ_ADDR\",\"onlineMsAfterStart\":$LZ_ONLINE_MS,\"authorizedBeforeApi\":${LZ_AUTH_BEFORE:-null},\"readyMsAfterAuthorize\":$((${line%% *} - LZ_AUTH_AT)),\"libztAddress\":\"$LZ_IP\",\"controllerIpAssignments\":\"$LZ_ASSIGNED\"}"
    start_proc LC2 zts-a "$NODE" "$TCP_CLIENT" --storage "$LC_DIR" --planet "$PLANET2" \
      --network "$NWID_L" --host "$LZ_IP" --port 7100
    wait_proc LC2 60000
    rc=$RC
    done_line=$(grep -m1 '"event":"echo-done"' "$WORK/LC2.log" || true)
    conn_line=$(grep -m1 '"event":"connected"' "$WORK/LC2.log" || true)
    check lab-net-tcp-ours-to-libzt "$([[ $rc == 0 ]] && echo true || echo false)" \
      "{\"exit\":$rc,\"connectMs\":$( [[ -n $conn_line ]] && js 'o.connectMs' "$conn_line" || echo null),\"echo\":$( [[ -n $done_line ]] && js '({intact:o.intact,closedCleanly:o.closedCleanly,rounds:o.rounds,size:o.size,rttsMs:o.rttsMs})' "$done_line" || echo null)}"
    ((rc == 0)) || log "tcp-client: $(proc_out LC2)"
    wait_proc LZ 60000
    rc=$RC
    done_line=$(grep -m1 '"event":"echo-done"' "$WORK/LZ.log" || true)
    echoed=$(grep -m1 '"event":"echoed"' "$WORK/LZ.log" || true)
    check lab-net-tcp-libzt-to-ours "$([[ $rc == 0 && -n $done_line ]] && echo true || echo false)" \
      "{\"exit\":$rc,\"libztEchoedBytes\":$( [[ -n $echoed ]] && js 'o.bytes' "$echoed" || echo null),\"echo\":$( [[ -n $done_line ]] && js 'o' "$done_line" || echo null)}"
    ((rc == 0)) || log "libzt: $(proc_out LZ)"
  fi
else
  skip lab-net-libzt "ZT_LIBZT_ECHO not set or not executable"
fi

# --- summary -------------------------------------------------------------------------------
SUMMARY=$(printf '%s\n' "${RESULTS[@]}" | "$NODE" -e '
  let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
    const checks=s.trim().split("\n").map(l=>JSON.parse(l));
    const ran=checks.filter(c=>c.pass!==null);
    console.log(JSON.stringify({checks,pass:ran.length>0&&ran.every(c=>c.pass)}));
  })')
echo "$SUMMARY"
# shellcheck disable=SC2016 # JavaScript template literals, not shell
"$NODE" -e '
  const s = JSON.parse(process.argv[1]);
  for (const c of s.checks) {
    const { check, pass, ...rest } = c;
    console.log(`${pass === null ? "skip" : pass ? "ok  " : "FAIL"} ${check} ${JSON.stringify(rest)}`);
  }
  const failed = s.checks.filter((c) => c.pass === false).map((c) => c.check);
  console.log(s.pass ? "PASS" : `FAIL${failed.length ? ": " + failed.join(", ") : ""}`);
  process.exit(s.pass ? 0 : 1);
' "$SUMMARY"
