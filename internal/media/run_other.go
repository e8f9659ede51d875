//go:build unix && !linux

package media

import "syscall"

// sysProcAttr puts the tool in its own process group; parent-death signals
// are Linux-only.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
