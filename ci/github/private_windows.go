//go:build windows

package github

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// createPrivate creates name in dir exclusively with a protected DACL that
// grants the runner user and SYSTEM, and no one else, access: what mode
// 0600 means on Unix. On Windows a mode is only a read-only flag and a new
// file inherits its directory's ACL, which on a self-hosted runner may let
// every local user read it.
//
// The security descriptor is applied by CreateFile itself: set afterwards,
// another process could open the empty file in between and keep reading it
// once the credentials are written. CREATE_NEW fails if anything exists at
// the path, a planted symlink included. root is not used: os.Root cannot
// pass a security descriptor, and dir is RUNNER_TEMP, which the runner
// created for this job.
func createPrivate(_ *os.Root, dir, name string) (*os.File, error) {
	sa, err := privateAttributes()
	if err != nil {
		return nil, fmt.Errorf("building a private ACL for %s: %w", name, err)
	}
	p := filepath.Join(dir, name)
	p16, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p16, windows.GENERIC_WRITE, 0, sa, windows.CREATE_NEW,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		// ERROR_FILE_EXISTS satisfies errors.Is(err, fs.ErrExist).
		return nil, &os.PathError{Op: "create", Path: p, Err: err}
	}
	return os.NewFile(uintptr(h), p), nil
}

// privateAttributes is a protected DACL (P: no inherited entries) with
// full access for the process's user and for SYSTEM.
func privateAttributes() (*windows.SecurityAttributes, error) {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("reading the process's user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;FA;;;" + user.User.Sid.String() + ")(A;;FA;;;SY)")
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}
