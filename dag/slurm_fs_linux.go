package dag

import "syscall"

// localFsType names the filesystem of p when it lives in this machine's memory
// (tmpfs, ramfs), else "".
func localFsType(p string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(p, &st) != nil {
		return ""
	}
	switch uint64(st.Type) {
	case 0x01021994:
		return "tmpfs"
	case 0x858458f6:
		return "ramfs"
	}
	return ""
}
