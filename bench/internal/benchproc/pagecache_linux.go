//go:build linux && (amd64 || arm64)

package benchproc

import (
	"os"
	"syscall"
	"unsafe"
)

const fadvDontNeed = 4 // POSIX_FADV_DONTNEED on Linux

func residentBytes(path string, size int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return 0, os.NewSyscallError("mmap", err)
	}
	defer syscall.Munmap(m)
	page := int64(os.Getpagesize())
	vec := make([]byte, (size+page-1)/page)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return 0, os.NewSyscallError("mincore", e)
	}
	var n int64
	for i, v := range vec {
		if v&1 != 0 {
			n += min(page, size-int64(i)*page)
		}
	}
	return n, nil
}

func evictFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Dirty pages cannot be dropped; the server syncs what it writes, but
	// a file it was writing when stopped may not be.
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		return os.NewSyscallError("fdatasync", err)
	}
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		return os.NewSyscallError("fadvise", e)
	}
	return nil
}
