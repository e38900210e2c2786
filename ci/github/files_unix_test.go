//go:build unix

package github

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// fakeInfo is a FileInfo with a chosen Sys.
type fakeInfo struct{ sys any }

func (fakeInfo) Name() string       { return "_temp" }
func (fakeInfo) Size() int64        { return 0 }
func (fakeInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (fakeInfo) ModTime() time.Time { return time.Time{} }
func (fakeInfo) IsDir() bool        { return true }
func (f fakeInfo) Sys() any         { return f.sys }

func TestFileOwner(t *testing.T) {
	t.Parallel()
	uid, gid, err := fileOwner(func() (fs.FileInfo, error) {
		return fakeInfo{sys: &syscall.Stat_t{Uid: 1001, Gid: 121}}, nil
	})
	if err != nil || uid != 1001 || gid != 121 {
		t.Errorf("fileOwner = %d, %d, %v; want 1001, 121", uid, gid, err)
	}
	if _, _, err := fileOwner(func() (fs.FileInfo, error) { return nil, fs.ErrPermission }); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("stat failure: err = %v", err)
	}
	if _, _, err := fileOwner(func() (fs.FileInfo, error) { return fakeInfo{}, nil }); err == nil {
		t.Error("no stat_t: no error")
	}
}

// TestExportFileOwnedByDirectoryOwner runs the real chown: as root (the
// container action's user), the file goes to the owner of its directory,
// the runner user on a real runner.
func TestExportFileOwnedByDirectoryOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root, as the container action runs")
	}
	const uid, gid = 1001, 121 // the hosted runner's runner:docker
	for _, mounted := range []bool{false, true} {
		t.Run(map[bool]string{false: "home", true: "runner temp"}[mounted], func(t *testing.T) {
			t.Parallel()
			r := githubtest.New(t, githubtest.Options{MountRunnerTemp: mounted})
			dir := filepath.Join(r.HostTemp(), "_github_home")
			if mounted {
				dir = r.HostTemp()
			}
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
			step := r.Step(githubtest.Main, nil)
			e, err := New(Config{Getenv: step.Getenv, Stdout: io.Discard, HostRunnerTemp: r.HostTemp()})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Export(context.Background(), &exchange.Credentials{Files: []exchange.File{gcpFile()}}); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, nil, nil)
			res.AssertNoProblems(t)
			host := res.Outputs["credentials_file_path"]
			fi, err := os.Lstat(host)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if st.Uid != uid || st.Gid != gid || fi.Mode() != fileMode {
				t.Errorf("file is %d:%d %v, want %d:%d %v", st.Uid, st.Gid, fi.Mode(), uid, gid, fileMode)
			}
		})
	}
}

// TestExportFileModeIgnoresUmask: fchmod makes the mode 0600 whatever the
// umask. It changes the process umask, so it must not run in parallel
// with other tests; top-level parallel tests wait for it.
func TestExportFileModeIgnoresUmask(t *testing.T) { //nolint:paralleltest // changes the process-wide umask
	r := githubtest.New(t, githubtest.Options{MountRunnerTemp: true})
	step := r.Step(githubtest.Main, nil)
	e, err := New(Config{Getenv: step.Getenv, Stdout: io.Discard, HostRunnerTemp: r.HostTemp()})
	if err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o277) // would leave 0400 from O_CREAT's 0600
	err = e.Export(context.Background(), &exchange.Credentials{Files: []exchange.File{gcpFile()}})
	syscall.Umask(old)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	res := r.Finish(step, nil, nil)
	fi, err := os.Lstat(res.Outputs["credentials_file_path"])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != fileMode {
		t.Errorf("mode = %v, want %v", fi.Mode(), fileMode)
	}
}
