// Package cache is nmdyn's content-addressed store of task outputs, on an afero.Fs.
//
// Layout under the cache root (default .nmdyn/ at the project root):
//
//	objects/ab/abcdef…       output bytes, named by their sha256, read-only
//	manifests/ab/<key>.json  one per committed task: outputs (name -> object, size)
//	                         and provenance (key components, times, memory, host)
//	refs/<stage>/<item>.json the key components of the last commit of each
//	                         (stage, item), so a stale task can say what changed
//	statcache.json           (path, size, mtime, inode) -> content hash of external files
//	lock                     the writers' lock (JSON: pid, host, time)
//	quarantine/              corrupted objects moved out of the way, for inspection
//
// Writes are atomic (temp file in the target's directory tree, write, fsync, close,
// rename, fsync the directory, chmod read-only), so a crash at any moment loses
// nothing committed and never exposes a partial object. A task commit writes its
// objects first and its manifest last: outputs become visible all at once. Every
// read verifies the content hash; a corrupted object is reported as an
// *IntegrityError and quarantined, never returned.
//
// The package knows nothing of pipelines: keys are computed from Components that
// package dag fills in.
package cache
