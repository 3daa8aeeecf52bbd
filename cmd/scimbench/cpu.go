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

// serverPGID is the process group of the directory server being measured
// (slapd, or the postmaster and its backends); 0: not measured.
var serverPGID atomic.Int64

func cpuNow() cpuUse {
	var u cpuUse
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pg := serverPGID.Load(); pg > 0 {
		u.server = groupCPU(int(pg))
	}
	return u
}

func (u cpuUse) sub(v cpuUse) cpuUse {
	return cpuUse{self: u.self - v.self, server: u.server - v.server}
}

// clockTick is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// groupCPU sums the CPU time of every process in process group pg,
// including the children they have reaped (PostgreSQL backends that
// exited). Processes that cannot be read are skipped.
func groupCPU(pg int) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state ppid pgrp ... utime(14) stime cutime cstime.
		end := bytes.LastIndexByte(data, ')')
		if end < 0 {
			continue
		}
		f := bytes.Fields(data[end+1:])
		if len(f) < 15 {
			continue
		}
		if g, _ := strconv.Atoi(string(f[2])); g != pg {
			continue
		}
		for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			n, _ := strconv.ParseInt(string(f[k]), 10, 64)
			ticks += n
		}
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
	if serverPGID.Load() == 0 {
		return short(self)
	}
	return short(self) + "+" + short(s.cpu.server/time.Duration(n))
}
