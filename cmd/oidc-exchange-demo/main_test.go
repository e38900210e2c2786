package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestDemo runs every demo scenario, as a newcomer would.
func TestDemo(t *testing.T) {
	t.Parallel()
	for name, want := range map[string][]string{
		"aws":        {"LOCAL SANDBOX", "credentials issued", "AWS_SECRET_ACCESS_KEY=***", "exit code 0"},
		"aws-denied": {"AccessDenied", "StringEquals", "exit code 4"},
		"aws-claims": {"refs/heads/release", "exit code 4", "the cloud saw 0 request(s)"},
		"gcp":        {"credentials issued", "GOOGLE_APPLICATION_CREDENTIALS=", "access-token=***", "mode -rw-------", "exit code 0"},
		"broker":     {"BROKER_TOKEN=***", "token=***", "exit code 0"},
		"gcp-denied": {"invalid_grant", "assertion.repository_owner_id == '123456' && assertion.repository_id == '456789'", "exit code 4"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), []string{name}, &stdout, &stderr); err != nil {
				t.Fatalf("demo %s: %v\n%s", name, err, stderr.String())
			}
			for _, w := range want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("demo output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

// TestDemoUsage: --help lists the scenarios, and an unknown one is a usage
// error that lists them too.
func TestDemoUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      []string
		wantUsage bool
	}{
		{args: []string{"--help"}},
		{args: []string{"nope"}, wantUsage: true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, &stdout, &stderr)
			var ue *usageError
			if got := errors.As(err, &ue); got != tc.wantUsage {
				t.Fatalf("usage error %v, want %v (err %v)", got, tc.wantUsage, err)
			}
			if out := stderr.String() + errString(err); !strings.Contains(out, "aws-denied") {
				t.Errorf("output lacks the scenarios:\n%s", out)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
