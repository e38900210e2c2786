package ci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    map[string]string
		want   Type
		wantOK bool
	}{
		{"github actions", map[string]string{"GITHUB_ACTIONS": "true"}, GitHubActions, true},
		{"not true", map[string]string{"GITHUB_ACTIONS": "1"}, "", false},
		{"unset", map[string]string{"CI": "true"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Detect(env(tc.env))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Detect = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	e, err := New(context.Background(), GitHubActions, Config{Getenv: env(nil), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if e.Type != GitHubActions || e.Tokens == nil || e.Masker == nil || e.Exporter == nil || e.Reporter == nil || e.Cleanup == nil {
		t.Fatalf("incomplete edge: %+v", e)
	}
	// The post step of a main step that saved nothing is a no-op.
	if err := e.Cleanup(context.Background()); err != nil {
		t.Errorf("Cleanup: %v", err)
	}
}

// TestNewGitHubFiles checks that the GitHub edge describes its token
// source and receives HostRunnerTemp: the credential file's exported path
// is the host path.
func TestNewGitHubFiles(t *testing.T) {
	t.Parallel()
	r := githubtest.New(t, githubtest.Options{MountRunnerTemp: true})
	step := r.Step(githubtest.Main, nil)
	e, err := New(context.Background(), GitHubActions, Config{Getenv: step.Getenv, Stdout: io.Discard, HostRunnerTemp: r.HostTemp()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, ok := e.Tokens.(exchange.CredentialSourcer); !ok {
		t.Error("the GitHub token source is not a CredentialSourcer")
	}
	err = e.Exporter.Export(context.Background(), &exchange.Credentials{Files: []exchange.File{{
		Prefix: "creds-", Ext: ".json", Content: exchange.NewSecret("{}"), PathOutputs: []string{"path"},
	}}})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	res := r.Finish(step, nil, nil)
	res.AssertNoProblems(t)
	if got := res.Outputs["path"]; filepath.Dir(got) != r.HostTemp() {
		t.Errorf("exported path %q, want one in %s", got, r.HostTemp())
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		typ     Type
		cfg     Config
		wantMsg string
		wantErr error
	}{
		{"unknown type", "jenkins", Config{Getenv: env(nil), Stdout: &bytes.Buffer{}},
			`unknown CI platform "jenkins", valid platforms are ["github-actions"]`, exchange.ErrInvalidInput},
		{"empty type", "", Config{Getenv: env(nil), Stdout: &bytes.Buffer{}},
			`unknown CI platform "", valid platforms are ["github-actions"]`, exchange.ErrInvalidInput},
		{"bad config", GitHubActions, Config{}, "creating the github-actions edge", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(context.Background(), tc.typ, tc.cfg)
			if err == nil || e.Tokens != nil {
				t.Fatalf("New = %+v, %v; want an error and a zero edge", e, err)
			}
			if !bytes.HasPrefix([]byte(err.Error()), []byte(tc.wantMsg)) {
				t.Errorf("err = %q, want prefix %q", err, tc.wantMsg)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestTypesSorted(t *testing.T) {
	t.Parallel()
	types := Types()
	for i := 1; i < len(types); i++ {
		if types[i-1] >= types[i] {
			t.Errorf("Types() is not sorted: %q", types)
		}
	}
	if diff := cmp.Diff([]Type{GitHubActions}, types); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
