//go:build !unix

package github

import "io/fs"

// statOwner reports that ownership is unknown: container actions run on
// Linux only, and os.Geteuid never returns 0 elsewhere.
func statOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// statLinks reports that the link count is unknown.
func statLinks(fs.FileInfo) (n uint64, ok bool) { return 0, false }
