//go:build unix

package github

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// TestSharedFilesOwnedByDirectoryOwner runs the real chown: as root (the
// container action's user), a new shared file and a user's file merged
// into both end up private to the owner of their directory, the runner
// user, also when the user's file was readable by everyone; so does the
// file the post step rewrites. Which owner is the directory's, not the
// old file's: the directory's owner is who may replace the file anyway.
func TestSharedFilesOwnedByDirectoryOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root, as the container action runs")
	}
	const uid, gid = 1001, 121 // the hosted runner's runner:docker
	for _, m := range sharedModes()[:2] {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			opts := m.opts
			opts.RunnerUser = &githubtest.Owner{UID: uid, GID: gid}
			r := githubtest.New(t, opts)
			userFile := userConfigFile(t, r) // 0644
			// A user's step runs as the runner user, so the runner user
			// owns what it writes.
			for _, p := range []string{filepath.Dir(userFile), userFile} {
				if err := os.Chown(p, uid, gid); err != nil {
					t.Fatal(err)
				}
			}
			step := r.Step(githubtest.Main, nil)
			var stdout bytes.Buffer
			sections := []exchange.Section{sharedinitest.ConfigSection("dev", false), sharedinitest.CredentialsSection("dev", false)}
			if err := sharedEdge(t, r, m, step, &stdout).Export(ctx, &exchange.Credentials{Sections: sections}); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoProblems(t)
			check := func(when, p string) {
				t.Helper()
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if st.Uid != uid || st.Gid != gid || fi.Mode() != fileMode {
					t.Errorf("%s: %s is %d:%d %v, want %d:%d %v", when, filepath.Base(p), st.Uid, st.Gid, fi.Mode(), uid, gid, fileMode)
				}
			}
			if res.Env["AWS_CONFIG_FILE"] != userFile {
				t.Fatalf("AWS_CONFIG_FILE = %q, want %q", res.Env["AWS_CONFIG_FILE"], userFile)
			}
			check("after export", userFile)
			check("after export", res.Env["AWS_SHARED_CREDENTIALS_FILE"])

			post := r.Step(githubtest.Post, nil)
			if err := sharedEdge(t, r, m, post, &bytes.Buffer{}).Cleanup(ctx); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			r.Finish(post, nil, nil).AssertNoProblems(t)
			check("after cleanup", userFile)
		})
	}
}
