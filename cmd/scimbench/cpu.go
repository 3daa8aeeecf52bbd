package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// cpuUse is CPU time (user + system) spent by this process (the bridge,
// the load generator and the raw client all run in it) and by the
// directory server's processes. Per operation, it shows where the time of
// a CPU-bound run goes, which the wall-clock ratios alone do not.
type cpuUse struct{ self, server time.Duration }

// serverPID is the directory server being measured (slapd, or the
// postmaster, whose children are counted with it); 0: not measured.
var serverPID atomic.Int64

// cpuStart and cpuEnd read both clocks around a measured interval. Reading
// /proc costs milliseconds of this process's CPU: it is done outside the
// interval (first at the start, last at the end).
func cpuStart() cpuUse {
	server := serverCPU()
	return cpuUse{self: selfCPU(), server: server}
}

func cpuEnd() cpuUse {
	self := selfCPU()
	return cpuUse{self: self, server: serverCPU()}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serverCPU() time.Duration {
	if pid := serverPID.Load(); pid > 0 {
		return treeCPU(int(pid))
	}
	return 0
}

func (u cpuUse) sub(v cpuUse) cpuUse {
	return cpuUse{self: u.self - v.self, server: u.server - v.server}
}

// clockTick is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// treeCPU sums the CPU time of process pid and of its descendants,
// including the children they have reaped (PostgreSQL backends that
// exited). PostgreSQL's processes each start a session of their own, so
// the tree, not the process group, is what belongs to the server.
func treeCPU(pid int) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	type proc struct {
		ppid  int
		ticks int64
	}
	procs := map[int]proc{}
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state ppid ... utime(14) stime cutime cstime.
		end := bytes.LastIndexByte(data, ')')
		open := bytes.IndexByte(data, ' ')
		if end < 0 || open < 0 {
			continue
		}
		f := bytes.Fields(data[end+1:])
		if len(f) < 15 {
			continue
		}
		id, _ := strconv.Atoi(string(data[:open]))
		pp, _ := strconv.Atoi(string(f[1]))
		var ticks int64
		for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			n, _ := strconv.ParseInt(string(f[k]), 10, 64)
			ticks += n
		}
		procs[id] = proc{ppid: pp, ticks: ticks}
	}
	in := map[int]bool{pid: true}
	for changed := true; changed; { // a few levels at most
		changed = false
		for id, p := range procs {
			if !in[id] && in[p.ppid] {
				in[id], changed = true, true
			}
		}
	}
	var ticks int64
	for id := range in {
		ticks += procs[id].ticks
	}
	return time.Duration(ticks) * clockTick
}

// cpuPerOp is the CPU per operation of s: "bench+server" (bench: this
// process, which holds the bridge and the clients).
func (s sample) cpuPerOp() string {
	n := len(s.lat)
	if n == 0 {
		return "-"
	}
	self := s.cpu.self / time.Duration(n)
	if serverPID.Load() == 0 {
		return short(self)
	}
	return short(self) + "+" + short(s.cpu.server/time.Duration(n))
}
