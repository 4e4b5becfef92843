//go:build unix

package main

import "syscall"

// raiseFileLimit raises this process's soft limit on open files to its
// hard limit, and returns the limit now in force (the soft one as it was
// where the system refuses to raise it, as macOS does for an unlimited
// hard limit).
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	return uint64(lim.Cur), nil
}
