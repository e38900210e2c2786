package exchange

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditFile appends one line per record, creates the file with mode
// 0600, and calls Created only for the file it created.
func TestAuditFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	var created []string
	f := &AuditFile{Path: p, Created: func(fh *os.File) error {
		created = append(created, fh.Name())
		return nil
	}}
	for _, outcome := range []string{"success", "failure"} {
		if err := f.Report(context.Background(), &AuditRecord{Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	if len(created) != 1 || created[0] != p {
		t.Errorf("Created ran for %q, want once for %q", created, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"outcome":"success"`) || !strings.Contains(lines[1], `"outcome":"failure"`) {
		t.Errorf("audit log = %q, want a success line then a failure line", b)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("Stat = %v, %v; want mode 0600", fi, err)
	}
}

// TestAuditFileCreatedFails leaves no file behind when the hook fails, so
// a file the runner user cannot read never receives a record.
func TestAuditFileCreatedFails(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	hookErr := errors.New("chown refused")
	f := &AuditFile{Path: p, Created: func(*os.File) error { return hookErr }}
	if err := f.Report(context.Background(), &AuditRecord{Outcome: "success"}); !errors.Is(err, hookErr) {
		t.Fatalf("Report = %v, want the hook's error", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat = %v, want the file removed", err)
	}
}

// TestAuditFileMissingDirectory reports a clear error.
func TestAuditFileMissingDirectory(t *testing.T) {
	t.Parallel()
	f := &AuditFile{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "audit.jsonl")}
	err := f.Report(context.Background(), &AuditRecord{})
	if err == nil || !strings.Contains(err.Error(), "opening audit log") {
		t.Errorf("Report = %v, want an 'opening audit log' error", err)
	}
}
