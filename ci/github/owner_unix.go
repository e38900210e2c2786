//go:build unix

package github

import (
	"io/fs"
	"syscall"
)

// statOwner reads the owner of fi from its stat_t.
func statOwner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st == nil {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// statLinks reads the number of hard links to fi from its stat_t.
func statLinks(fi fs.FileInfo) (n uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st == nil {
		return 0, false
	}
	return uint64(st.Nlink), true // uint16 on Darwin, uint32 on some BSDs
}
