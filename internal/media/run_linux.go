//go:build linux

package media

import "syscall"

// sysProcAttr puts the tool in its own process group and asks the kernel to
// SIGKILL it when the thread that started it dies. Go keeps threads alive
// unless a goroutine exits while locked to one, which Run never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
