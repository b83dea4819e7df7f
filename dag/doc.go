// Package dag is nmdyn's pipeline engine: it parses pipeline.yaml strictly, builds
// the graph of stages, expands fan-outs into tasks, computes every task's key,
// decides what is stale, selects and schedules tasks on an executor, and publishes
// outputs. It knows nothing of neuroscience: stages are task.Func values looked up
// by name in a registry.
//
// # Fan-out matching
//
// A stage with `foreach` makes one task per item of the cartesian product of its
// dimensions (dimensions in sorted order; values sorted: numbers numerically,
// strings lexically). A task of stage S with item I reads, from each input stage
// U, the tasks of U whose items agree with I on every dimension S and U share.
// Dimensions of U that S lacks are gathered: S sees all of those tasks, sorted by
// item. Dimensions of S that U lacks are broadcast: every task of S reads the same
// task(s) of U. So simulate over mechanism x sim_seed, fit over mechanism x
// sim_seed x variant x seed and select per mechanism x sim_seed make a
// model-recovery pipeline.
//
// # Keys
//
// A task's key is the sha256 of: the key-schema salt (cache.KeySchema), the stage
// name, the canonical item, the code identity of the Go package defining the stage
// (see CodeIndex), the canonical params the stage reads (the foreach-referenced
// param lists excluded: the item carries the value, so adding a seed does not
// restale the other seeds), the keys of its upstream tasks (input stages sorted
// by name, tasks by item) and the content hashes of the external files it names
// (`files:`). A task is fresh when a manifest for its key exists in the cache.
package dag
