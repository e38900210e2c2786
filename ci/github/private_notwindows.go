//go:build !windows

package github

import (
	"fmt"
	"io/fs"
	"os"
)

// createPrivate creates name in root exclusively with mode 0600 and, when
// running as root, gives it to the directory's owner (see [fileOwner]).
// dir only names the directory in errors.
func createPrivate(root *os.Root, dir, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fileMode)
	if err != nil {
		return nil, err
	}
	// fchmod, unlike the mode of O_CREAT, is not narrowed or widened by
	// the umask.
	if err = f.Chmod(fileMode); err != nil {
		err = fmt.Errorf("setting the mode of %s: %w", name, err)
	} else {
		err = giveToDirOwner(f, name, func() (fs.FileInfo, error) { return root.Stat(".") })
	}
	if err != nil {
		f.Close()
		_ = root.Remove(name)
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return f, nil
}
