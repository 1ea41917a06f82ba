#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the demo VM (scripts/demo.sh).
set -euo pipefail
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "modprobe honeevent (loads process_notify, socket_notify, packet_notify, hone_notify)"
modprobe -d "$HONE_STAGE" honeevent hostid='{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}'
lsmod | grep -E '^(Module|hone|process_notify|socket_notify|packet_notify)'
ls -l /dev/hone /dev/honet

say "cat /dev/honet (live text) and cat /dev/hone (PCAP-NG) while some commands run"
cat /dev/honet > /tmp/honet.txt &
text=$!
cat /dev/hone > /tmp/hone.pcapng &
pcap=$!
sleep 1
sh -c 'echo "hello from pid $$"'
ls / > /dev/null
ip link set lo up
python3 -c '
import os, socket
srv = socket.create_server(("127.0.0.1", 8080))
cli = socket.create_connection(("127.0.0.1", 8080))
conn, _ = srv.accept()
cli.sendall(b"GET / HTTP/1.0\r\n\r\n"); conn.recv(100); conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n"); cli.recv(100)
print("python pid", os.getpid(), "talked to itself over TCP")'
(sleep 0.2; true) &
wait $!
sleep 1
kill $text $pcap

say "/dev/honet: HEAD and the first lines of the snapshot of running processes"
head -n 6 /tmp/honet.txt
say "/dev/honet: live events of the commands this shell (pid $$) ran"
# Lines of this shell's children and of their children, and their sockets and packets.
awk -v sh=$$ '$2 ~ /^(FORK|EXEC|EXIT)$/ && ($4 == sh || ($4 in kids)) { kids[$3] = 1; print; next }
	$2 == "SOCK" && ($4 in kids) { print; next }
	$2 == "PAKT" && ($5 in kids) { print }' /tmp/honet.txt

say "/dev/hone: $(stat -c %s /tmp/hone.pcapng) bytes of PCAP-NG, decoded by hone-dump (wall-clock times)"
"$HONE_TOOLS/hone-dump" -r /tmp/hone.pcapng | grep -E ' (EXEC|PAKT) ' | tail -n 6

say "modprobe -r: the chain unloads"
modprobe -d "$HONE_STAGE" -r honeevent
lsmod | grep -cE '^(hone|process_notify|socket_notify|packet_notify)' || true
