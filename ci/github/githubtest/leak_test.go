package githubtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"
)

const (
	fakeSecret = "FAKE-SECRET-ACCESS-KEY-wJalrXUtnFEMI"
	fakeToken  = "FAKE-SESSION-TOKEN-IQoJb3JpZ2luX2VjEJr"
)

// leakCase runs one step whose output and files the case writes, and
// expects leaks (substrings of findings) for fakeSecret.
type leakCase struct {
	name   string
	secret string                        // default fakeSecret
	before func(t *testing.T, r *Runner) // earlier steps
	stdout string
	stderr string
	files  map[string]string // GITHUB_* variable → content to append
	want   []string          // substrings of findings, in order; nil means no leak
}

func TestAssertNoLeak(t *testing.T) {
	t.Parallel()
	mask := "::add-mask::" + fakeSecret + "\n"
	tests := []leakCase{
		{name: "nothing printed"},
		{name: "masked before use", stdout: mask + "key: " + fakeSecret + "\n"},
		{name: "used before masked", stdout: "key: " + fakeSecret + "\n" + mask, want: []string{"stdout line 1 (not masked at that point)"}},
		{name: "on stderr even when masked", stdout: mask, stderr: "key: " + fakeSecret + "\n", want: []string{"stderr line 1"}},
		{name: "add-mask on stderr does not protect stdout", stderr: mask, stdout: fakeSecret + "\n", want: []string{"stderr line 1", "stdout line 1"}},
		{
			name:   "mask from an earlier step",
			before: func(_ *testing.T, r *Runner) { r.Finish(r.Step(Main, nil), []byte(mask), nil) },
			stdout: fakeSecret + "\n",
		},
		{name: "base64 is masked by the runner", stdout: mask + base64.StdEncoding.EncodeToString([]byte(fakeSecret)) + "\n"},
		{name: "hex is not", stdout: mask + hex.EncodeToString([]byte(fakeSecret)) + "\n", want: []string{"(hex) in stdout line 2"}},
		{
			// At an offset that is a multiple of three the runner's own
			// base64 mask still matches...
			name:   "base64 inside a larger blob, aligned",
			stdout: mask + base64.StdEncoding.EncodeToString([]byte(`{"auth":"`+fakeSecret+`"}`)) + "\n",
		},
		{
			// ...at any other offset it does not.
			name:   "base64 inside a larger blob, unaligned",
			stdout: mask + base64.StdEncoding.EncodeToString([]byte(`{"auth": "`+fakeSecret+`"}`)) + "\n",
			want:   []string{"base64 at byte offset 1"},
		},
		{
			name:   "Go JSON escaping differs from the runner's",
			secret: "FAKE<SECRET>&0123",
			stdout: "::add-mask::FAKE<SECRET>&0123\n" + `{"k":"FAKE\u003cSECRET\u003e\u00260123"}` + "\n",
			want:   []string{"(JSON-escaped (Go)) in stdout line 2"},
		},
		{
			name:   "runner-style JSON escaping is masked",
			secret: `FAKE"SECRET\0123`,
			stdout: "::add-mask::" + `FAKE"SECRET\0123` + "\n" + `{"k":"FAKE\"SECRET\\0123"}` + "\n",
		},
		{name: "partially masked", stdout: "::add-mask::" + fakeSecret[:10] + "\n" + fakeSecret + "\n", want: []string{"stdout line 2"}},
		{
			name:   "add-mask while commands are stopped is plain output",
			stdout: "::stop-commands::pause-1234567\n" + mask + fakeSecret + "\n::pause-1234567::\n",
			want:   []string{"stdout line 2", "stdout line 3"},
		},
		{name: "escaped multi-line mask hides each line", stdout: "::add-mask::" + EscapeData("line-one-"+fakeSecret+"\nline-two") + "\nline-one-" + fakeSecret + "\n"},
		{
			name:   "annotation data is displayed unescaped",
			secret: "FAKE-100%-SECRET",
			stdout: "::warning::" + EscapeData("FAKE-100%-SECRET") + "\n",
			// The escaped form happens to be the URL encoding too.
			want: []string{"(URL-encoded) in stdout line 1", "stdout line 1 (command text"},
		},
		{
			name:   "annotation properties are displayed unescaped",
			secret: "FAKE:PASS,WORD",
			stdout: "::warning title=" + EscapeProperty("FAKE:PASS,WORD") + "::x\n",
			want:   []string{"(URL-encoded) in stdout line 1", "stdout line 1 (command text"},
		},
		{name: "summary", files: map[string]string{"GITHUB_STEP_SUMMARY": "key " + fakeSecret}, want: []string{"the step summary"}},
		{name: "state", files: map[string]string{"GITHUB_STATE": "k=" + fakeSecret + "\n"}, want: []string{"GITHUB_STATE"}},
		{name: "output that is the secret", files: map[string]string{"GITHUB_OUTPUT": "aws-secret-access-key=" + fakeSecret + "\n"}},
		{name: "output embedding the secret", files: map[string]string{"GITHUB_OUTPUT": "creds={\"k\":\"" + fakeSecret + "\"}\n"}, want: []string{`output "creds"`}},
		{name: "output delimiter", files: map[string]string{"GITHUB_OUTPUT": "o<<" + fakeSecret + "\nv\n" + fakeSecret + "\n"}, want: []string{"GITHUB_OUTPUT outside"}},
		{name: "env value", files: map[string]string{"GITHUB_ENV": "AWS_SECRET_ACCESS_KEY<<ghadelimiter_x\n" + fakeSecret + "\nghadelimiter_x\n"}},
		{name: "env outside a value", files: map[string]string{"GITHUB_ENV": "A=1\n" + fakeSecret + "\n"}, want: []string{"GITHUB_ENV outside"}},
		{name: "env delimiter", files: map[string]string{"GITHUB_ENV": "A<<" + fakeSecret + "\nv\n" + fakeSecret + "\n"}, want: []string{"GITHUB_ENV outside"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := New(t, Options{})
			if tt.before != nil {
				tt.before(t, r)
			}
			s := r.Step(Main, nil)
			for name, content := range tt.files {
				appendFile(t, s.Env[name], content)
			}
			res := r.Finish(s, []byte(tt.stdout), []byte(tt.stderr))
			secret := tt.secret
			if secret == "" {
				secret = fakeSecret
			}
			got := res.leaks([]string{secret})
			if len(got) != len(tt.want) {
				t.Fatalf("leaks = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("leak %d = %q, want it to mention %q", i, got[i], w)
				}
			}
			for _, f := range got {
				if strings.Contains(f, secret) {
					t.Errorf("finding reveals the secret: %q", f)
				}
			}
		})
	}
}

func TestAssertNoLeakReports(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	s := r.Step(Main, nil)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(audit, []byte(`{"token":"`+fakeToken+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := r.Finish(s, []byte("::add-mask::"+fakeToken+"\n"), nil).WithFiles(audit)
	errs := capture(t, func(tb testing.TB) { res.AssertNoLeak(tb, fakeSecret, fakeToken) })
	if len(errs) != 1 || !strings.Contains(errs[0], "secret #2") || !strings.Contains(errs[0], audit) {
		t.Errorf("AssertNoLeak reported %q", errs)
	}
	errs = capture(t, func(tb testing.TB) { res.AssertNoLeak(tb, "") })
	if len(errs) != 1 {
		t.Errorf("empty secret accepted: %q", errs)
	}
}

func TestMaskedStdout(t *testing.T) {
	t.Parallel()
	r := New(t, Options{Secrets: []string{"FAKE-JOB-SECRET"}})
	s := r.Step(Main, nil)
	stdout := strings.Join([]string{
		"before " + fakeSecret,
		"::add-mask::" + fakeSecret,
		"after " + fakeSecret,
		"job secret FAKE-JOB-SECRET",
		"request token " + r.Token.RequestToken(),
		"::stop-commands::resume-token-42",
		"::add-mask::not-a-mask",
		"::resume-token-42::",
	}, "\n")
	res := r.Finish(s, []byte(stdout), nil)
	want := strings.Join([]string{
		"before " + fakeSecret,
		"::add-mask::***",
		"after ***",
		"job secret ***",
		"request token ***",
		"::stop-commands::***",
		"::add-mask::not-a-mask",
		"::***::",
	}, "\n") + "\n"
	if diff := cmp.Diff(want, res.MaskedStdout); diff != "" {
		t.Errorf("MaskedStdout mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{fakeSecret}, res.Masks); diff != "" {
		t.Errorf("Masks mismatch (-want +got):\n%s", diff)
	}
}

func TestStopCommands(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	s := r.Step(Main, nil)
	stdout := strings.Join([]string{
		"::stop-commands::tok",
		"::set-output name=injected::1",
		"::TOK::",
		"::notice::back",
		"::stop-commands::add-mask",
		"::stop-commands::",
		"::stop-commands::Pause-Logging",
		"::error::still processing",
	}, "\n")
	res := r.Finish(s, []byte(stdout), nil)
	var names []string
	for _, c := range res.Commands {
		names = append(names, c.Name)
	}
	want := []string{"stop-commands", "notice", "stop-commands", "stop-commands", "stop-commands", "error"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("processed commands mismatch (-want +got):\n%s", diff)
	}
	if _, ok := res.Outputs["injected"]; ok {
		t.Error("a command was processed while stopped")
	}
	if len(res.Problems) != 3 {
		t.Errorf("Problems = %q, want three invalid stop tokens", res.Problems)
	}
}

func TestAssertNoInjectedCommands(t *testing.T) {
	t.Parallel()
	r := New(t, Options{})
	s := r.Step(Main, nil)
	stdout := strings.Join([]string{
		"::add-mask::x1234567",
		"::debug::fetching token",
		"  ::set-output name=role::evil",
		"branch refs/heads/##[add-mask]main",
		"ref: x ##[error]boom",
		"::not-a-command::x",
	}, "\n")
	stderr := "::Warning file=x::from stderr\n"
	res := r.Finish(s, []byte(stdout), []byte(stderr))
	errs := capture(t, func(tb testing.TB) { res.AssertNoInjectedCommands(tb, "add-mask", "debug") })
	if len(errs) != 3 || !containsAll(errs, `stderr line 1: the runner processed a "Warning"`, `stdout line 3`, `"error" workflow command (legacy form: true)`) {
		t.Errorf("AssertNoInjectedCommands reported %q", errs)
	}
	if res.Outputs["role"] != "evil" {
		t.Errorf("::set-output:: should still set outputs, got %q", res.Outputs)
	}
	// The legacy add-mask registered "main" job-wide.
	if got := r.masker.MaskAt(r.masker.Len(), "main"); got != "***" {
		t.Errorf("legacy add-mask not registered job-wide: %q", got)
	}
}

// TestGoGitHubActionsStep runs a step written with go-githubactions, the
// library our edge uses, through the simulation.
func TestGoGitHubActionsStep(t *testing.T) {
	t.Parallel()
	r := New(t, Options{
		IDTokenPermission: true,
		Mint: func(aud string) string {
			return "FAKE-JWT." + base64.RawURLEncoding.EncodeToString([]byte(aud)) + ".sig"
		},
		InputDefaults: map[string]string{"audience": "sts.amazonaws.com"},
	})
	s := r.Step(Main, nil)
	var stdout bytes.Buffer
	a := githubactions.New(githubactions.WithGetenv(s.Getenv), githubactions.WithWriter(&stdout))
	tok, err := a.GetIDToken(context.Background(), a.GetInput("audience"))
	if err != nil {
		t.Fatal(err)
	}
	a.AddMask(tok)
	a.AddMask(fakeSecret)
	a.Debugf("exchanged token %s", tok)
	a.SetEnv("AWS_SECRET_ACCESS_KEY", fakeSecret)
	a.SetOutput("aws-secret-access-key", fakeSecret)
	a.SaveState("cleanup", "/github/home/creds")
	a.AddStepSummary("### credentials issued")
	res := r.Finish(s, stdout.Bytes(), nil)

	res.AssertNoProblems(t)
	res.AssertNoInjectedCommands(t, "add-mask", "debug")
	res.AssertNoLeak(t, append(r.Token.Issued(), fakeSecret)...)
	if diff := cmp.Diff([]string{"sts.amazonaws.com"}, r.Token.Audiences()); diff != "" {
		t.Errorf("audiences mismatch (-want +got):\n%s", diff)
	}
	if res.Env["AWS_SECRET_ACCESS_KEY"] != fakeSecret || res.Outputs["aws-secret-access-key"] != fakeSecret {
		t.Errorf("env %q outputs %q", res.Env, res.Outputs)
	}
	post := r.Step(Post, nil)
	if post.Env["STATE_cleanup"] != "/github/home/creds" {
		t.Errorf("STATE_cleanup = %q", post.Env["STATE_cleanup"])
	}
}

// TestSubprocess runs a step as a real process with StepEnv's env, args and
// working directory, as end-to-end tests of the binary do.
func TestSubprocess(t *testing.T) {
	t.Parallel()
	if os.Getenv("GITHUBTEST_HELPER") == "1" {
		t.Skip("helper mode")
	}
	r := New(t, Options{Args: []string{"--flag", "two words"}})
	s := r.Step(Main, nil)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(s.Environ(), "GITHUBTEST_HELPER=1", "GITHUBTEST_ARGS="+strings.Join(s.Args, "|"))
	cmd.Dir = s.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	res := r.Finish(s, stdout.Bytes(), stderr.Bytes())
	res.AssertNoProblems(t)
	// The process's working directory is the workspace. (os.Getwd sees
	// the host path behind the simulated mount; a container would report
	// /github/workspace.)
	want := map[string]string{"dir": r.HostWorkspace(), "args": "--flag|two words"}
	if diff := cmp.Diff(want, res.Outputs); diff != "" {
		t.Errorf("outputs from the subprocess mismatch (-want +got):\n%s", diff)
	}
}

// TestHelperProcess is the subprocess of TestSubprocess.
func TestHelperProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv("GITHUBTEST_HELPER") != "1" {
		t.Skip("only run as a subprocess")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(os.Getenv("GITHUB_OUTPUT"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, _ := json.Marshal(wd)
	if _, err := fmt.Fprintf(f, "dir=%s\nargs=%s\n", strings.Trim(string(out), `"`), os.Getenv("GITHUBTEST_ARGS")); err != nil {
		t.Fatal(err)
	}
}

func TestLeakForms(t *testing.T) {
	t.Parallel()
	secret := "{\n  \"private_key\": \"FAKE-KEY-MATERIAL\"\n}"
	forms := leakForms(secret)
	has := func(s string) bool {
		return slices.ContainsFunc(forms, func(f leakForm) bool { return f.value == s })
	}
	for _, want := range []string{secret, `"private_key": "FAKE-KEY-MATERIAL"`, hex.EncodeToString([]byte(secret))} {
		if !has(want) {
			t.Errorf("leakForms lacks %q", want)
		}
	}
	// Short lines like "{" would match innocent output.
	if has("{") || has("}") {
		t.Errorf("leakForms includes a one-character line: %q", forms)
	}
	if got := leakForms("ab"); len(got) != 1 {
		t.Errorf("leakForms of a short secret = %q, want only the value", got)
	}
}
