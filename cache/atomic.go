package cache

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/spf13/afero"
)

// createTemp makes the temp file of an atomic write in dir. It is a package
// variable so a test can hand out a file that fails at any step.
var createTemp = func(fs afero.Fs, dir, pattern string) (afero.File, error) {
	return afero.TempFile(fs, dir, pattern)
}

// stepHook, when set (by tests), runs after each step of an atomic commit
// ("write", "sync", "close", "rename", "syncdir", "chmod"); an error aborts the
// commit there, as a crash or an I/O error would.
var stepHook func(step string) error

func step(name string) error {
	if stepHook == nil {
		return nil
	}
	return stepHook(name)
}

// tempPrefix starts the name of every temp file; gc removes leftovers of crashes.
const tempPrefix = ".tmp-"

// WriteFileAtomic writes data to name so that a reader sees either the old file or
// the complete new one: temp file in the same directory, write, fsync, close,
// rename, fsync the directory, chmod perm. The directory is created if needed.
func WriteFileAtomic(fs afero.Fs, name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := createTemp(fs, dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		return abortTemp(fs, f, tmp, fmt.Errorf("write %s: %w", name, err))
	}
	if err := step("write"); err != nil {
		return abortTemp(fs, f, tmp, err)
	}
	return commitTemp(fs, f, tmp, name, perm)
}

// commitTemp finishes an atomic write whose bytes are in f (named tmp).
func commitTemp(fs afero.Fs, f afero.File, tmp, name string, perm os.FileMode) error {
	if err := f.Sync(); err != nil {
		return abortTemp(fs, f, tmp, fmt.Errorf("fsync %s: %w", tmp, err))
	}
	if err := step("sync"); err != nil {
		return abortTemp(fs, f, tmp, err)
	}
	if err := f.Close(); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := step("close"); err != nil {
		fs.Remove(tmp)
		return err
	}
	// The mode is set on the temp file, before it gets its name, so the final
	// file never exists writable.
	if err := fs.Chmod(tmp, perm); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := step("chmod"); err != nil {
		fs.Remove(tmp)
		return err
	}
	if err := fs.Rename(tmp, name); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("rename %s: %w", name, err)
	}
	if err := step("rename"); err != nil {
		return err
	}
	if err := syncDir(fs, filepath.Dir(name)); err != nil {
		return err
	}
	return step("syncdir")
}

func abortTemp(fs afero.Fs, f afero.File, tmp string, err error) error {
	f.Close()
	fs.Remove(tmp)
	return err
}

// syncDir fsyncs a directory so that a rename into it survives a power loss.
func syncDir(fs afero.Fs, dir string) error {
	d, err := fs.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// isTemp tells whether a file name is a temp file of an atomic write.
func isTemp(name string) bool {
	b := path.Base(filepath.ToSlash(name))
	return len(b) >= len(tempPrefix) && b[:len(tempPrefix)] == tempPrefix
}
