package github

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// TestExportFilesNative runs the edge as the native action runs it, a step
// of its own on the runner: the file goes to RUNNER_TEMP, later steps get
// that very path, and the post step removes it.
func TestExportFilesNative(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := githubtest.New(t, githubtest.Options{Mode: githubtest.Native})
	step := r.Step(githubtest.Main, nil)
	if got := step.Getenv("RUNNER_TEMP"); got != r.HostTemp() {
		t.Fatalf("a native step sees RUNNER_TEMP %q, want the host's %q", got, r.HostTemp())
	}
	var stdout bytes.Buffer
	e, err := New(Config{Getenv: step.Getenv, Stdout: &stdout, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	creds := &exchange.Credentials{Provider: "gcp", Files: []exchange.File{gcpFile("GOOGLE_APPLICATION_CREDENTIALS")}}
	if err := e.Export(ctx, creds); err != nil {
		t.Fatalf("Export: %v", err)
	}
	res := r.Finish(step, stdout.Bytes(), nil)
	res.AssertNoProblems(t)
	res.AssertNoLeak(t, fileSecret)
	p := res.Outputs["credentials_file_path"]
	if filepath.Dir(p) != r.HostTemp() || !fileName.MatchString(filepath.Base(p)) {
		t.Fatalf("exported path %q, want %s/gha-creds-<16 hex>.json", p, r.HostTemp())
	}
	if res.Env["GOOGLE_APPLICATION_CREDENTIALS"] != p {
		t.Errorf("GOOGLE_APPLICATION_CREDENTIALS = %q, want %q", res.Env["GOOGLE_APPLICATION_CREDENTIALS"], p)
	}
	if got := string(r.ReadFromHostStep(t, p)); got != fakeFileContent() {
		t.Errorf("a later step reads %q", got)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode() != fileMode {
		t.Errorf("Lstat = %v, %v; want mode %v", fi, err, fileMode)
	}
	if res.State[StateFiles] != p {
		t.Errorf("state lists %q, want %q", res.State[StateFiles], p)
	}

	post := r.Step(githubtest.Post, nil)
	pe, err := New(Config{Getenv: post.Getenv, Stdout: io.Discard, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := pe.Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	r.Finish(post, nil, nil).AssertNoProblems(t)
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("after post, Lstat = %v; want the file gone", err)
	}
}

// TestNativeLocationRefuses checks the RUNNER_TEMP values a native step
// must not write credentials to.
func TestNativeLocationRefuses(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	tests := []struct {
		name, runnerTemp, want string
	}{
		{"unset", "", "not an absolute path"},
		{"relative", "_temp", "not an absolute path"},
		{"comma", filepath.Join(t.TempDir(), "a,b"), "cannot be listed"},
		{"the workspace", ws, "in the workspace"},
		{"inside the workspace", filepath.Join(ws, "tmp"), "in the workspace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"RUNNER_TEMP": tc.runnerTemp, "GITHUB_WORKSPACE": ws}
			_, err := nativeLocation(func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("nativeLocation(RUNNER_TEMP=%q) = %v, want an error containing %q", tc.runnerTemp, err, tc.want)
			}
		})
	}
}

// TestWithin checks the workspace containment test, including a sibling
// whose name starts with the parent's.
func TestWithin(t *testing.T) {
	t.Parallel()
	root := filepath.Join(string(filepath.Separator), "w")
	tests := []struct {
		p    string
		want bool
	}{
		{root, true},
		{filepath.Join(root, "x"), true},
		{filepath.Join(root, "x", "..", "y"), true},
		{root + "2", false},
		{filepath.Join(root, ".."), false},
		{filepath.Join(string(filepath.Separator), "other"), false},
	}
	for _, tc := range tests {
		if got := within(tc.p, root); got != tc.want {
			t.Errorf("within(%q, %q) = %v, want %v", tc.p, root, got, tc.want)
		}
	}
}

// TestFileCommandsCRLF writes file commands with the Windows line ending
// and reads them with the Windows runner's parser: every value round-trips,
// a trailing CR included, which an LF-only file would lose there.
func TestFileCommandsCRLF(t *testing.T) {
	t.Parallel()
	r := githubtest.New(t, githubtest.Options{Mode: githubtest.Native})
	step := r.Step(githubtest.Main, nil)
	e, err := New(Config{Getenv: step.Getenv, Stdout: io.Discard, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"A": "plain", "B": "ends in CR\r", "C": "two\r\nlines", "D": ""}
	for _, eol := range []string{"\r\n", "\n"} {
		e.eol = eol
		var vars []exchange.Variable
		for _, k := range []string{"A", "B", "C", "D"} {
			vars = append(vars, exchange.PlainVariable(k, values[k]))
		}
		if err := e.Export(context.Background(), &exchange.Credentials{Env: vars}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(step.Getenv("GITHUB_ENV"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(step.Getenv("GITHUB_ENV"), 0); err != nil {
			t.Fatal(err)
		}
		got, err := githubtest.ParseEnvFileWindows(string(b))
		if err != nil {
			t.Fatal(err)
		}
		lost := false
		for _, kv := range got {
			if kv.Value != values[kv.Key] {
				lost = true
			}
		}
		if want := eol == "\n"; lost != want {
			t.Errorf("with %q line endings the Windows runner reads %q; lost a value: %v, want %v", eol, got, lost, want)
		}
	}
	if lineEnding("windows") != "\r\n" || lineEnding("linux") != "\n" || lineEnding("darwin") != "\n" {
		t.Error("lineEnding does not pick CRLF for Windows only")
	}
}
