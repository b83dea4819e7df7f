package cache

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/afero"
)

func TestLockExclusive(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	l, err := s.Lock(ctx, LockOptions{Command: "run all"})
	if err != nil {
		t.Fatal(err)
	}
	info := s.ReadLock()
	if info == nil || info.PID != os.Getpid() || info.Command != "run all" {
		t.Fatalf("lock content %+v", info)
	}
	// A second writer (here: this same live process) is refused...
	_, err = s.Lock(ctx, LockOptions{})
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Holder.PID != os.Getpid() {
		t.Fatalf("second Lock: %v", err)
	}
	// ...or waits, and gets the lock once the first releases it.
	got := make(chan error, 1)
	go func() {
		l2, err := s.Lock(ctx, LockOptions{Wait: true, Poll: 5 * time.Millisecond})
		if err == nil {
			err = l2.Unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("waiting Lock returned while the lock was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Lock did not get the released lock")
	}
	if s.ReadLock() != nil {
		t.Error("lock file left after Unlock")
	}
	// Waiting ends with the context.
	l, _ = s.Lock(ctx, LockOptions{})
	defer l.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(cctx, LockOptions{Wait: true, Poll: 5 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock after the context ended: %v", err)
	}
}

// writeLock plants a lock file as another process would have left it.
func writeLock(t *testing.T, s *Store, info LockInfo) {
	t.Helper()
	b, _ := json.Marshal(info)
	if err := afero.WriteFile(s.Fs(), filepath.Join(s.Root(), "lock"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLockStaleness(t *testing.T) {
	oldAlive := pidAlive
	defer func() { pidAlive = oldAlive }()
	pidAlive = func(pid int) bool { return pid != 4242 } // 4242 is "dead"
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		info  LockInfo
		stale bool
	}{
		{"fresh, live pid here", LockInfo{ID: "a", PID: 77, Host: hostname(), Time: time.Now()}, false},
		{"fresh, dead pid here", LockInfo{ID: "b", PID: 4242, Host: hostname(), Time: time.Now()}, true},
		{"fresh, other host (pid not checkable)", LockInfo{ID: "c", PID: 4242, Host: "elsewhere", Time: time.Now()}, false},
		{"not refreshed for 3 min, other host", LockInfo{ID: "d", PID: 77, Host: "elsewhere", Time: time.Now().Add(-3 * time.Minute)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			writeLock(t, s, c.info)
			l, err := s.Lock(ctx, LockOptions{StaleAfter: 2 * time.Minute})
			if c.stale {
				if err != nil {
					t.Fatalf("stale lock not taken over: %v", err)
				}
				if s.ReadLock().PID != os.Getpid() {
					t.Error("lock file not ours after takeover")
				}
				l.Unlock()
			} else if !errors.Is(err, ErrLocked) {
				t.Fatalf("live lock taken: %v", err)
			}
		})
	}
}

func TestLockRefresh(t *testing.T) {
	s := newStore(t)
	l, err := s.Lock(context.Background(), LockOptions{Refresh: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t0 := s.ReadLock().Time
	time.Sleep(60 * time.Millisecond)
	if t1 := s.ReadLock().Time; !t1.After(t0) {
		t.Errorf("lock time not refreshed: %v then %v", t0, t1)
	}
	if err := l.Lost(); err != nil {
		t.Error(err)
	}
	l.Unlock()
	// Another run took over (after judging it stale): Refresh notices, and Unlock
	// leaves the other run's lock alone. (Called by hand: a refresh racing the
	// takeover could rewrite the lock, the narrow window the design accepts.)
	l, err = s.Lock(context.Background(), LockOptions{Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	writeLock(t, s, LockInfo{ID: "other", PID: 1, Host: "elsewhere", Time: time.Now()})
	if err := l.Refresh(); err == nil {
		t.Error("takeover not noticed")
	}
	l.Unlock()
	if info := s.ReadLock(); info == nil || info.ID != "other" {
		t.Errorf("Unlock removed another run's lock: %+v", info)
	}
}
