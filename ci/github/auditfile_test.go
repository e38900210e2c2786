package github

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// TestAuditFileLocation checks where a container action may write the
// audit log (only into its mounts) and how a relative path resolves.
func TestAuditFileLocation(t *testing.T) {
	t.Parallel()
	const croot = "/sim" // a simulated container root, as githubtest uses
	mounted := map[string]string{
		"GITHUB_WORKSPACE": croot + ContainerWorkspace,
		"HOME":             croot + ContainerHome,
		"RUNNER_TEMP":      croot + ContainerRunnerTemp,
	}
	oldRunner := map[string]string{
		"GITHUB_WORKSPACE": ContainerWorkspace,
		"HOME":             ContainerHome,
		"RUNNER_TEMP":      "/home/runner/work/_temp", // not mounted: untranslated
	}
	tests := []struct {
		name   string
		env    map[string]string
		native bool
		in     string
		want   string // "" means refused
	}{
		{"relative, in the workspace", mounted, false, "audit.jsonl", croot + "/github/workspace/audit.jsonl"},
		{"relative subdirectory", mounted, false, "logs/audit.jsonl", croot + "/github/workspace/logs/audit.jsonl"},
		{"runner temp, translated", mounted, false, croot + "/github/runner_temp/audit.jsonl", croot + "/github/runner_temp/audit.jsonl"},
		{"home", mounted, false, croot + "/github/home/a.jsonl", croot + "/github/home/a.jsonl"},
		{"relative escape", mounted, false, "../../etc/audit.jsonl", ""},
		{"container /tmp", mounted, false, "/tmp/audit.jsonl", ""},
		{"the workspace itself", mounted, false, croot + "/github/workspace", ""},
		{"look-alike prefix", mounted, false, croot + "/github/workspace2/a.jsonl", ""},
		{"old runner, host runner temp", oldRunner, false, "/home/runner/work/_temp/audit.jsonl", ""},
		{"old runner, workspace", oldRunner, false, "/github/workspace/audit.jsonl", "/github/workspace/audit.jsonl"},
		{"relative without a workspace", map[string]string{"HOME": ContainerHome}, false, "audit.jsonl", ""},
		{"native, anywhere", oldRunner, true, "/var/log/audit.jsonl", "/var/log/audit.jsonl"},
		{"native, relative stays relative", oldRunner, true, "audit.jsonl", "audit.jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(Config{Getenv: func(k string) string { return tc.env[k] }, Stdout: io.Discard, Native: tc.native})
			if err != nil {
				t.Fatal(err)
			}
			f, err := e.AuditFile(tc.in)
			if tc.want == "" {
				if !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), "audit-log") {
					t.Fatalf("AuditFile(%q) = %v, want an audit-log input error", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AuditFile(%q): %v", tc.in, err)
			}
			if f.Path != tc.want {
				t.Errorf("AuditFile(%q).Path = %q, want %q", tc.in, f.Path, tc.want)
			}
		})
	}
}

// TestAuditFileOwner writes the audit log as root into a directory the
// runner user owns: the new file must be the runner user's, and an
// existing file keeps its owner.
func TestAuditFileOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root, as the container action runs")
	}
	const uid, gid = 1001, 121
	dir := t.TempDir()
	ws := filepath.Join(dir, "github", "workspace")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(ws, uid, gid); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Getenv: func(k string) string { return map[string]string{"GITHUB_WORKSPACE": ws}[k] }, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.AuditFile("audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rec := &exchange.AuditRecord{Outcome: "success"}
	for range 2 {
		if err := f.Report(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(ws, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	gotUID, gotGID, _ := statOwner(fi)
	if gotUID != uid || gotGID != gid || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log is %d:%d %v, want %d:%d 0600", gotUID, gotGID, fi.Mode().Perm(), uid, gid)
	}
	b, err := os.ReadFile(filepath.Join(ws, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("audit log has %d lines, want 2", n)
	}
}
