package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PGPair is a real PostgreSQL primary and a hot-standby streaming replica
// of it, each on a free port of 127.0.0.1, made by initdb, pg_ctl and
// pg_basebackup -R in a temporary directory and stopped with the test.
type PGPair struct {
	Primary, Standby string // DSNs of the postgres database on each

	bin, dir, runAs  string
	primDir, stbyDir string
	// PrimaryDB and StandbyDB are admin handles on the postgres database.
	PrimaryDB, StandbyDB *sql.DB
}

// pgBinDir finds a directory holding initdb, pg_ctl and pg_basebackup: the
// newest /usr/lib/postgresql/*/bin (Debian, Ubuntu), else the one of initdb
// on PATH.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		ok := true
		for _, name := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
			if _, err := os.Stat(filepath.Join(d, name)); err != nil {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartPGPair starts the primary and its streaming replica.
func StartPGPair(t testing.TB) *PGPair {
	t.Helper()
	p := &PGPair{bin: pgBinDir()}
	if p.bin == "" {
		Unavailable(t, "pgreplica: initdb, pg_ctl and pg_basebackup are not installed")
	}
	dir, err := os.MkdirTemp("", "authhero-pgreplica-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.dir = dir
	if os.Geteuid() == 0 { // postgres refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(t, "pgreplica: running as root and there is no postgres user to run the clusters as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		p.runAs = "postgres"
	}
	p.primDir, p.stbyDir = filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	primPort, stbyPort := freePort(t), freePort(t)

	p.run(t, "initdb", "-D", p.primDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = '128MB'\nhot_standby = on\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = '32MB'\n", primPort, dir)
	p.appendConf(t, p.primDir, conf)
	p.start(t, p.primDir)
	t.Cleanup(func() { p.stop(t, p.primDir) })

	p.run(t, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primPort), "-U", "postgres",
		"-D", p.stbyDir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	p.appendConf(t, p.stbyDir, fmt.Sprintf("\nport = %d\n", stbyPort))
	p.start(t, p.stbyDir)
	t.Cleanup(func() { p.stop(t, p.stbyDir) }) // runs first: standby before primary

	p.Primary = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", primPort)
	p.Standby = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", stbyPort)
	p.PrimaryDB, err = sql.Open("pgx", p.Primary)
	require.NoError(t, err)
	p.StandbyDB, err = sql.Open("pgx", p.Standby)
	require.NoError(t, err)
	p.StandbyDB.SetMaxIdleConns(0) // the standby is stopped and started again by some tests
	t.Cleanup(func() { p.PrimaryDB.Close(); p.StandbyDB.Close() })
	var recovering bool
	require.NoError(t, p.StandbyDB.QueryRow("SELECT pg_is_in_recovery()").Scan(&recovering))
	require.True(t, recovering, "the standby is a replica")
	return p
}

// run runs a PostgreSQL program, as the postgres user when this is root.
func (p *PGPair) run(t testing.TB, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	path := filepath.Join(p.bin, name)
	cmd := exec.CommandContext(ctx, path, args...)
	if p.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
	}
	cmd.Dir = p.dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", name, args, out)
}

func (p *PGPair) appendConf(t testing.TB, dataDir, conf string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(conf)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func (p *PGPair) start(t testing.TB, dataDir string) {
	t.Helper()
	p.run(t, "pg_ctl", "-D", dataDir, "-l", dataDir+".log", "-w", "-t", "30", "start")
}

func (p *PGPair) stop(t testing.TB, dataDir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err != nil {
		return // not running
	}
	p.run(t, "pg_ctl", "-D", dataDir, "-m", "fast", "-w", "-t", "30", "stop")
}

// StopStandby and StartStandby take the replica away and bring it back.
func (p *PGPair) StopStandby(t testing.TB)  { p.stop(t, p.stbyDir) }
func (p *PGPair) StartStandby(t testing.TB) { p.start(t, p.stbyDir) }

// CatchUp waits until the standby has replayed everything the primary has
// written so far.
func (p *PGPair) CatchUp(t testing.TB) {
	t.Helper()
	var lsn string
	require.NoError(t, p.PrimaryDB.QueryRow("SELECT pg_current_wal_lsn()::text").Scan(&lsn))
	deadline := time.Now().Add(15 * time.Second)
	for {
		var done bool
		err := p.StandbyDB.QueryRow("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn).Scan(&done)
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgreplica: the standby did not replay up to %s within 15s (err %v)", lsn, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pause stops the standby from replaying WAL (it keeps receiving it), so
// that it lags the primary until Resume.
func (p *PGPair) Pause(t testing.TB) {
	t.Helper()
	_, err := p.StandbyDB.Exec("SELECT pg_wal_replay_pause()")
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var state string
		require.NoError(t, p.StandbyDB.QueryRow("SELECT pg_get_wal_replay_pause_state()").Scan(&state))
		if state == "paused" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgreplica: replay is %q, not paused, after 10s", state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Resume lets the standby replay again.
func (p *PGPair) Resume(t testing.TB) {
	t.Helper()
	_, err := p.StandbyDB.Exec("SELECT pg_wal_replay_resume()")
	require.NoError(t, err)
}
