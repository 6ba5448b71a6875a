"""What an idle standby costs: resident memory and CPU while it waits.

    python standby_cost.py PID SECONDS OUT.json

PID is an `orm-kernel standby` process whose evaluator is ready. Its process tree (the standby
and evcxr's evaluation process under it) is read from Linux's /proc (proc(5)): resident memory
is the sum of `VmRSS` in /proc/PID/status, CPU the change of `utime + stime` (fields 14 and 15
of /proc/PID/stat, in clock ticks) over SECONDS of waiting.
"""
import json
import os
import sys
import time


def children(pid):
    """The pids whose parent is `pid` (read from every /proc/N/stat)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = open(f"/proc/{name}/stat").read()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(name))
    return found


def tree(pid):
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(children(current))
    return pids


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2:].split()
    # utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return int(fields[11]) + int(fields[12])


def main():
    pid, seconds, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    pids = tree(pid)
    before = sum(cpu_ticks(p) for p in pids)
    time.sleep(seconds)
    after = sum(cpu_ticks(p) for p in pids)
    rss = {p: rss_kib(p) for p in pids}
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    result = {
        "processes": len(pids),
        "rss_mib": sum(rss.values()) / 1024,
        "standby_rss_mib": rss[pid] / 1024,
        "idle_seconds": seconds,
        "idle_cpu_seconds": (after - before) / ticks_per_second,
    }
    json.dump(result, open(out, "w"), indent=1)
    print(f"  standby: {result['rss_mib']:.0f} MiB resident in {len(pids)} processes, "
          f"{result['idle_cpu_seconds']:.2f} s of CPU in {seconds:.0f} s idle", file=sys.stderr)


if __name__ == "__main__":
    main()
