package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIMigrateLoud: migrate fails loudly when it reads nothing, gates CI
// with --fail-on, and reports --write's refusals.
func TestCLIMigrateLoud(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	repo := filepath.Join(base, "repo")
	wf := filepath.Join(repo, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("../../../trust/migrate/testdata/report_only.in.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, "ci.yml"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, "broken.yml"), []byte("on: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refusal := "--write leaves job script (aws) as it is: secrets are interpolated into a run: script; rewrite it by hand"
	for _, tc := range []struct {
		name     string
		args     []string
		wantExit int
		stdout   []string
		stderr   string
	}{
		{"missing dir", []string{filepath.Join(base, "nonexistent")}, exitInput, nil, filepath.Join(base, "nonexistent")},
		{"no workflows", []string{base}, exitInput, nil, filepath.Join(".github", "workflows")},
		{"report", []string{repo}, exitOK, []string{"broken.yml:1:5", "migrate-workflow-invalid", refusal}, ""},
		{"fail-on high", []string{"--fail-on", "high", repo}, exitFindings, []string{"migrate-aws-static-keys"}, "at or above --fail-on high"},
		{"fail-on critical", []string{"--fail-on", "critical", "--format", "json", repo}, exitOK, []string{`"severity": "high"`}, ""},
		{"fail-on bad", []string{"--fail-on", "severe", repo}, exitInput, nil, "fail-on"},
		{"write json", []string{"--write", "--format", "json", repo}, exitOK, []string{refusal, `"rule": "migrate-workflow-invalid"`}, ""},
		{"write sarif", []string{"--write", "--format", "sarif", "--fail-on", "medium", repo}, exitFindings, []string{refusal, `"level": "note"`}, "at or above --fail-on medium"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{}, "", nil, append([]string{"migrate"}, tc.args...)...)
			if got := exitCode(r.err); got != tc.wantExit {
				t.Errorf("exit %d, want %d (%v)\n%s%s", got, tc.wantExit, r.err, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			if tc.stderr != "" && !strings.Contains(r.stderr+errText(r.err), tc.stderr) {
				t.Errorf("stderr and error lack %q: %q %v", tc.stderr, r.stderr, r.err)
			}
			if strings.Contains(r.stdout, "no long-lived cloud credentials found") {
				t.Errorf("reported clean:\n%s", r.stdout)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
