package media

import (
	"fmt"
	"syscall"
)

// FreeBytes returns the bytes available to an unprivileged user on the file
// system holding path (which must exist): the figure to check before a
// capture starts and while it runs.
func FreeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
