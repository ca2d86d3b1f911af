package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// cpuTicks is the machine-wide CPU time of /proc/stat, in clock ticks.
type cpuTicks struct{ total, idle uint64 }

// machineTicks reads the aggregate "cpu" line of /proc/stat; false where
// there is none.
func machineTicks() (cpuTicks, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTicks{}, false
	}
	var t cpuTicks
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTicks{}, false
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, true
}

// idleSince returns the fraction of the machine's CPU time that was idle
// since t0, or -1 where unknown.
func idleSince(t0 cpuTicks, ok0 bool) float64 {
	t1, ok1 := machineTicks()
	if !ok0 || !ok1 || t1.total <= t0.total {
		return -1
	}
	return float64(t1.idle-t0.idle) / float64(t1.total-t0.total)
}

// CPUModel returns the first "model name" of /proc/cpuinfo, or GOARCH where
// there is none.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// LoadAvg returns the 1, 5 and 15 minute load averages of /proc/loadavg,
// or "" where there is none.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
