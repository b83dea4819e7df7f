package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// LockInfo is the content of the lock file: who holds the cache.
type LockInfo struct {
	ID      string    `json:"id"` // random, tells two holders apart
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Time    time.Time `json:"time"` // refreshed while held
	Command string    `json:"command,omitempty"`
}

// ErrLocked matches (errors.Is) the error of a lock held by another live writer.
var ErrLocked = errors.New("cache is locked by another run")

// LockedError says who holds the lock.
type LockedError struct {
	Path   string
	Holder LockInfo
}

func (e *LockedError) Error() string {
	h := e.Holder
	return fmt.Sprintf("cache is locked by another run (%s: pid %d on %s, since %s; command %q); use --wait to wait for it",
		e.Path, h.PID, h.Host, h.Time.Format(time.RFC3339), h.Command)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// LockOptions tune Lock; zero values give the defaults.
type LockOptions struct {
	Wait       bool          // wait for the lock instead of failing with ErrLocked
	Poll       time.Duration // how often to retry while waiting (250 ms)
	Refresh    time.Duration // how often the holder rewrites its time (20 s)
	StaleAfter time.Duration // a lock not refreshed for this long is stale (2 min)
	Command    string        // recorded in the lock, for the message others see
}

func (o *LockOptions) defaults() {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Refresh <= 0 {
		o.Refresh = 20 * time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 2 * time.Minute
	}
}

// pidAlive tells whether a process exists on this host; a variable for tests.
var pidAlive = func(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// hostname is this machine's name; a variable for tests.
var hostname = func() string {
	h, _ := os.Hostname()
	return h
}

// Lock is a held writers' lock.
type Lock struct {
	s    *Store
	info LockInfo
	path string
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	lost error
}

// Lock takes the writers' lock of the store: a file created exclusively, holding
// pid, host and time, refreshed while held. A lock is stale, and taken over, when
// its time is older than StaleAfter or when its pid is dead on this host. Readers
// take no lock. Without Wait, a live lock gives a *LockedError (ErrLocked).
func (s *Store) Lock(ctx context.Context, opt LockOptions) (*Lock, error) {
	opt.defaults()
	var id [8]byte
	rand.Read(id[:])
	l := &Lock{s: s, path: filepath.Join(s.root, fileLock),
		info: LockInfo{ID: hex.EncodeToString(id[:]), PID: os.Getpid(), Host: hostname(), Command: opt.Command}}
	for {
		held, err := l.try(opt.StaleAfter)
		if err == nil {
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.refresh(opt.Refresh)
			return l, nil
		}
		if held == nil {
			return nil, err
		}
		if !opt.Wait {
			return nil, &LockedError{Path: l.path, Holder: *held}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the cache lock: %w", ctx.Err())
		case <-time.After(opt.Poll):
		}
	}
}

// try attempts to create the lock file once. It returns the holder's info when the
// lock is held by someone live, or an error for other failures.
func (l *Lock) try(staleAfter time.Duration) (*LockInfo, error) {
	fs := l.s.fs
	l.info.Time = time.Now()
	b, _ := json.Marshal(&l.info)
	f, err := fs.OpenFile(l.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err == nil {
		_, werr := f.Write(b)
		if serr := f.Sync(); werr == nil {
			werr = serr
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fs.Remove(l.path)
			return nil, fmt.Errorf("lock %s: %w", l.path, werr)
		}
		return nil, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("lock %s: %w", l.path, err)
	}
	held, stale := l.inspect(staleAfter)
	if held == nil {
		return l.try(staleAfter) // vanished between create and read: try again
	}
	if !stale {
		return held, errors.New("held")
	}
	// Take over a stale lock: move it aside under a unique name, and put it
	// back if what was moved is not the lock judged stale (someone took it over
	// in between).
	aside := l.path + ".stale-" + l.info.ID
	if err := fs.Rename(l.path, aside); err != nil {
		return held, errors.New("held") // someone else moved it: retry
	}
	var moved LockInfo
	if b, err := afero.ReadFile(fs, aside); err == nil && json.Unmarshal(b, &moved) == nil && moved.ID != held.ID {
		fs.Rename(aside, l.path)
		return &moved, errors.New("held")
	}
	fs.Remove(aside)
	return l.try(staleAfter)
}

// inspect reads the current lock file and tells whether it is stale; nil if
// the file is gone.
func (l *Lock) inspect(staleAfter time.Duration) (*LockInfo, bool) {
	fs := l.s.fs
	st, err := fs.Stat(l.path)
	if err != nil {
		return nil, false
	}
	b, err := afero.ReadFile(fs, l.path)
	var info LockInfo
	if err != nil || json.Unmarshal(b, &info) != nil {
		// Being written right now, or damaged: judge by the file's age.
		return &LockInfo{Time: st.ModTime()}, time.Since(st.ModTime()) > staleAfter
	}
	if time.Since(info.Time) > staleAfter {
		return &info, true
	}
	if info.Host == hostname() && info.PID > 0 && !pidAlive(info.PID) {
		return &info, true
	}
	return &info, false
}

// refresh rewrites the lock's time until Unlock.
func (l *Lock) refresh(every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.Refresh(); err != nil {
				l.mu.Lock()
				l.lost = err
				l.mu.Unlock()
			}
		}
	}
}

// Refresh rewrites the lock's time now (done periodically while held).
func (l *Lock) Refresh() error {
	fs := l.s.fs
	b, err := afero.ReadFile(fs, l.path)
	var cur LockInfo
	if err != nil || json.Unmarshal(b, &cur) != nil || cur.ID != l.info.ID {
		return fmt.Errorf("lock %s was taken over by another run", l.path)
	}
	l.info.Time = time.Now()
	nb, _ := json.Marshal(&l.info)
	return WriteFileAtomic(fs, l.path, nb, 0o644)
}

// Lost reports an error if the lock could not be refreshed (it may have been
// taken over after being judged stale).
func (l *Lock) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Unlock releases the lock (if it is still ours).
func (l *Lock) Unlock() error {
	close(l.stop)
	<-l.done
	b, err := afero.ReadFile(l.s.fs, l.path)
	var cur LockInfo
	if err == nil && json.Unmarshal(b, &cur) == nil && cur.ID != l.info.ID {
		return nil // taken over: not ours to remove
	}
	if err := l.s.fs.Remove(l.path); err != nil && !notExist(err) {
		return err
	}
	return nil
}

// ReadLock returns the current lock holder, or nil if the cache is not locked.
func (s *Store) ReadLock() *LockInfo {
	b, err := afero.ReadFile(s.fs, filepath.Join(s.root, fileLock))
	if err != nil {
		return nil
	}
	var info LockInfo
	if json.Unmarshal(b, &info) != nil {
		return &LockInfo{}
	}
	return &info
}
