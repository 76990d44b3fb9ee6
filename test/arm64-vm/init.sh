#!/bin/busybox sh
# /init of the arm64 test VM (scripts/arm64-vm.sh): runs the arm64 enforcer on a real arm64
# kernel (qemu-system-aarch64, TCG) and prints one `VIGIL-CASE name key=value...` line per
# scenario; test/arm64-vm/arm64-vm.test.ts judges them. Then powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
ip link set lo up
E=/vigil/enforcer
P=/probes
echo "VIGIL-KERNEL $(uname -m) $(uname -r)"

policy() { printf 'vigil-policy 1\n%s\nend\n' "$1" > /tmp/policy; }
# case NAME POLICY-LINE -- ENFORCER-ARGS... : runs the enforcer, reports rc, output, event counts
case_() {
	name=$1; shift
	policy "$1"; shift
	rm -f /tmp/ev /tmp/out
	"$E" --policy /tmp/policy --events /tmp/ev "$@" >/tmp/out 2>/tmp/err
	rc=$?
	echo "VIGIL-CASE $name rc=$rc blocked=$(grep -c '"verdict":"blocked"' /tmp/ev) out=$(tr '\n' '|' </tmp/out) err=$(tr '\n' '|' </tmp/err | cut -c1-300)"
}

cp /bin/busybox /usr/bin/denied
for mech in seccomp landlock; do
	case_ "exec-denied-$mech" 'exec.deny /usr/bin/denied' --mechanism $mech -- $P/try-exec /usr/bin/denied true
	case_ "exec-allowed-$mech" 'exec.deny /usr/bin/denied' --mechanism $mech -- $P/try-exec /bin/busybox true
	case_ "exec-shell-$mech" 'exec.deny /usr/bin/denied' --mechanism $mech -- /bin/sh -c '/usr/bin/denied echo RAN || echo REFUSED; /bin/busybox echo ALLOWED'
done
# the system-call deny path: the tracer rewrites the call's registers at the seccomp stop
case_ net-denied 'network.connect.deny 127.0.0.0/8' -- $P/net-ops connect 127.0.0.1 9
case_ net-allowed 'network.connect.deny 10.0.0.0/8' -- $P/net-ops connect 127.0.0.1 9
# datagram sends made on the process's behalf: the call skipped at the seccomp stop, our result in x0
case_ udp-denied 'network.connect.deny 127.0.0.1 9' -- $P/udp-send sendto 9
case_ udp-allowed 'network.connect.deny 127.0.0.1 7' -- $P/udp-send sendto 9
case_ udp-mmsg 'network.connect.deny 127.0.0.1 7' -- $P/udp-send sendmmsg 9 9 7 9
case_ listen-denied 'network.listen.allow 8080' -- $P/net-ops listen 9090
case_ listen-allowed 'network.listen.allow 8080' -- $P/net-ops listen 8080
mkdir -p /srv/conf /srv/logs
echo original > /srv/conf/app.conf
case_ files-readonly 'files.readOnly /srv/conf/**' -- $P/file-ops write /srv/conf/app.conf unlink /srv/conf/app.conf rename /srv/conf/app.conf /srv/conf/moved write /srv/logs/app.log
echo "VIGIL-CASE files-content content=$(cat /srv/conf/app.conf) log=$(cat /srv/logs/app.log 2>/dev/null)"
# files.readOnly without Landlock: write-opens judged again at their exit stop (O_TRUNC taken out of
# the flags register at the seccomp stop and put back at the exit; a refused file closed by a close
# run in the process). $P/no-landlock hides Landlock whether or not this kernel has it.
mkdir -p /srv/ro /srv/app
echo original > /srv/ro/conf
echo long-previous-content > /srv/app/own
policy 'files.readOnly /srv/ro/**'
rm -f /tmp/ev
$P/no-landlock "$E" --mechanism seccomp --policy /tmp/policy --events /tmp/ev -- $P/open-race link /srv/app/link /srv/app/good /srv/ro/conf 400 >/tmp/out 2>/tmp/err
echo "VIGIL-CASE files-race rc=$? files=$(grep -o '"files":"[a-z+]*"' /tmp/ev | head -1 | cut -d'"' -f4) blocked=$(grep -c '"verdict":"blocked"' /tmp/ev) refused=$(sed -n 's/.*refused=\([0-9]*\).*/\1/p' /tmp/out) conf=$(cat /srv/ro/conf)"
# the program's own filter refuses close(2): the close the enforcer runs in it on a won race is refused
# by that filter (so it did run, as close(fd)), and the program is killed
# (the race has to be won for the case to show anything: up to 5 runs of 3000 opens, until one is)
for attempt in 1 2 3 4 5; do
  rm -f /tmp/ev
  OPEN_RACE_DENY_CLOSE=1 $P/no-landlock "$E" --mechanism seccomp --policy /tmp/policy --events /tmp/ev -- $P/open-race link /srv/app/link /srv/app/good /srv/ro/conf 3000 >/tmp/out 2>/tmp/err
  rc=$?
  [ "$rc" = 0 ] || break
done
echo "VIGIL-CASE files-race-deny-close-attempts n=$attempt"
echo "VIGIL-CASE files-race-deny-close rc=$rc blocked=$(grep -c '"verdict":"blocked"' /tmp/ev) out=$(tr '\n' '|' </tmp/out) err=$(tr '\n' '|' </tmp/err | cut -c1-300)"
echo "VIGIL-CASE files-race-deny-close-content conf=$(cat /srv/ro/conf)"
rm -f /tmp/ev
$P/no-landlock "$E" --mechanism seccomp --policy /tmp/policy --events /tmp/ev -- $P/file-ops write /srv/app/own write /srv/ro/conf >/tmp/out 2>/tmp/err
echo "VIGIL-CASE files-own rc=$? blocked=$(grep -c '"verdict":"blocked"' /tmp/ev) out=$(tr '\n' '|' </tmp/out) err=$(tr '\n' '|' </tmp/err | cut -c1-300)"
echo "VIGIL-CASE files-own-content own=$(cat /srv/app/own) conf=$(cat /srv/ro/conf)"
# a process entered from outside (nsenter into the PID namespace of the enforcer as PID 1) is adopted
# and gets the application's filter: the call it sleeps in is skipped and made again after prctl and
# seccomp(TSYNC) ran in it (arm64: svc rewound, number in NT_ARM_SYSTEM_CALL)
mkdir -p /srv/adopt/ro
echo original > /srv/adopt/ro/f
policy 'files.readOnly /srv/adopt/ro/**'
rm -f /tmp/ev
unshare -p -f --mount-proc "$E" --mechanism seccomp --policy /tmp/policy --events /tmp/ev -- /bin/sleep 60 &
U=$!
EP=
for i in 1 2 3 4 5 6 7 8 9 10; do
	for p in /proc/[0-9]*; do [ "$(cut -d' ' -f4 $p/stat 2>/dev/null)" = "$U" ] && EP=${p#/proc/}; done
	[ -n "$EP" ] && break
	sleep 0.5
done
sleep 1
nsenter -t "$EP" -p -m /bin/sh -c 'sleep 2; echo x >> /srv/adopt/ro/f; echo "ro=$?"; echo y > /srv/adopt/own; echo "rw=$?"; grep Seccomp_filters /proc/$$/status' >/tmp/out 2>/tmp/err
rc=$?
kill "$EP"; wait $U
echo "VIGIL-CASE adopt-filter rc=$rc blocked=$(grep -c '"verdict":"blocked"' /tmp/ev) out=$(tr '\n\t' '| ' </tmp/out) err=$(tr '\n' '|' </tmp/err | cut -c1-300)"
echo "VIGIL-CASE adopt-filter-content f=$(cat /srv/adopt/ro/f) attach=$(grep -c '"mechanism":"attach","filter":true' /tmp/ev)"
# routes around ptrace
case_ clone3 'exec.deny /usr/bin/denied' -- $P/clone3-exec /usr/bin/denied true
case_ untraced 'exec.deny /usr/bin/denied' -- $P/untraced-exec /usr/bin/denied true
echo VIGIL-DONE
poweroff -f
