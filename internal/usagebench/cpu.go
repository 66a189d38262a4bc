package usagebench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cpuSample is the CPU time used so far by this process and by the
// PostgreSQL processes working for the benchmark database (its backends,
// the WAL writer, checkpointer and background writer), so a run can say
// where the time went. PostgreSQL must run on this host (/proc).
type cpuSample struct {
	self time.Duration
	srv  time.Duration // billingd, when it is a subprocess
	pg   map[int]time.Duration
	bg   map[int]bool // background processes, shared by every database of the server
}

func sampleCPU(ctx context.Context, conn *pgx.Conn, serverPID int) cpuSample {
	s := cpuSample{pg: map[int]time.Duration{}, bg: map[int]bool{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if serverPID != os.Getpid() {
		s.srv, _ = procCPU(serverPID)
	}
	rows, _ := conn.Query(ctx, `SELECT pid, datname IS NULL FROM pg_stat_activity
		WHERE datname = current_database() OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`)
	var pid int32
	var bg bool
	_, _ = pgx.ForEachRow(rows, []any{&pid, &bg}, func() error {
		if d, ok := procCPU(int(pid)); ok {
			s.pg[int(pid)], s.bg[int(pid)] = d, bg
		}
		return nil
	})
	return s
}

// procCPU reads utime + stime of a process from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond, true
}

// cpuUsed is what was used between two samples: by this process, by
// billingd (when a subprocess), by the benchmark database's backends, and
// by PostgreSQL's WAL writer, checkpointer and background writer (which
// also work for other databases).
type cpuUsed struct{ Self, Server, Backends, Background time.Duration }

func (a cpuSample) until(b cpuSample) cpuUsed {
	u := cpuUsed{Self: b.self - a.self, Server: b.srv - a.srv}
	for pid, d := range b.pg {
		if b.bg[pid] {
			u.Background += d - a.pg[pid]
		} else {
			u.Backends += d - a.pg[pid]
		}
	}
	return u
}
