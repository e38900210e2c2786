package github

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

// fakeCredentials uses obviously fake values; the golden files hold them.
func fakeCredentials() *exchange.Credentials {
	return &exchange.Credentials{
		Provider: "aws",
		Env: []exchange.Variable{
			exchange.PlainVariable("AWS_REGION", "eu-west-1"),
			exchange.SecretVariable("AWS_ACCESS_KEY_ID", exchange.NewSecret("FAKE-access-key-id")),
			exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", exchange.NewSecret("FAKE-secret")),
			exchange.SecretVariable("AWS_SESSION_TOKEN", exchange.NewSecret("FAKE-session-line-1\nFAKE-session-line-2")),
		},
		Outputs: []exchange.Variable{
			exchange.PlainVariable("aws-account-id", "000000000000"),
			exchange.SecretVariable("aws-session-token", exchange.NewSecret("FAKE-session-line-1\nFAKE-session-line-2")),
		},
	}
}

func TestExportGolden(t *testing.T) {
	t.Parallel()
	vars := commandFiles(t)
	e, out := newTestEdge(t, env(vars))
	c := fakeCredentials()

	if err := e.Export(context.Background(), c); err != nil {
		t.Fatalf("Export: %v", err)
	}

	for _, f := range []struct {
		variable, golden string
		want             []pair
	}{
		{"GITHUB_ENV", "export_env.golden", []pair{
			{"AWS_REGION", "eu-west-1"},
			{"AWS_ACCESS_KEY_ID", "FAKE-access-key-id"},
			{"AWS_SECRET_ACCESS_KEY", "FAKE-secret"},
			{"AWS_SESSION_TOKEN", "FAKE-session-line-1\nFAKE-session-line-2"},
		}},
		{"GITHUB_OUTPUT", "export_output.golden", []pair{
			{"aws-account-id", "000000000000"},
			{"aws-session-token", "FAKE-session-line-1\nFAKE-session-line-2"},
		}},
		{"GITHUB_STATE", "export_state.golden", []pair{
			{StateExportedEnv, "AWS_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN"},
			{StatePost, "true"},
		}},
	} {
		got := readFile(t, vars[f.variable])
		exchangetest.Golden(t, f.golden, got, *update)
		pairs, err := parseFileCommand(got)
		if err != nil {
			t.Fatalf("%s does not parse: %v", f.variable, err)
		}
		if diff := cmp.Diff(f.want, pairs); diff != "" {
			t.Errorf("%s parsed (-want +got):\n%s", f.variable, diff)
		}
		crossCheckEnvFile(t, got, f.want)
	}
	for _, s := range c.Secrets() {
		for _, form := range append(exchange.MaskForms(s), "FAKE-") {
			if strings.Contains(out.String(), form) {
				t.Errorf("stdout contains a secret form %q:\n%s", form, out.String())
			}
		}
	}
	if strings.Contains(out.String(), "FAKE-") {
		t.Errorf("stdout contains a value:\n%s", out.String())
	}
}

// zeroReader yields zeros, so every delimiter is the same.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestExportRejects(t *testing.T) {
	t.Parallel()
	zeroDelimiter := delimiterPrefix + strings.Repeat("0", 2*delimiterBytes)
	tests := []struct {
		name    string
		env     []exchange.Variable
		outputs []exchange.Variable
		unset   string
		missing string
		random  func() interface{ Read([]byte) (int, error) }
		wantErr error
		wantMsg string
	}{
		{name: "leading digit", env: []exchange.Variable{exchange.PlainVariable("1A", "x")}, wantMsg: "invalid"},
		{name: "hyphen in env name", env: []exchange.Variable{exchange.PlainVariable("A-B", "x")}, wantMsg: "invalid"},
		{name: "equals sign", env: []exchange.Variable{exchange.PlainVariable("A=B", "x")}, wantMsg: "invalid"},
		{name: "heredoc marker", env: []exchange.Variable{exchange.PlainVariable("A<<B", "x")}, wantMsg: "invalid"},
		{name: "newline in name", env: []exchange.Variable{exchange.PlainVariable("A\nB", "x")}, wantMsg: "invalid"},
		{name: "empty name", env: []exchange.Variable{exchange.PlainVariable("", "x")}, wantMsg: "invalid"},
		{name: "NODE_OPTIONS", env: []exchange.Variable{exchange.PlainVariable("NODE_OPTIONS", "--require /evil")},
			wantMsg: "NODE_OPTIONS"},
		{name: "node_options", env: []exchange.Variable{exchange.PlainVariable("node_options", "--require /evil")},
			wantMsg: "node_options"},
		{name: "duplicate env", env: []exchange.Variable{exchange.PlainVariable("A", "1"), exchange.PlainVariable("A", "2")},
			wantMsg: "twice"},
		{name: "output leading hyphen", outputs: []exchange.Variable{exchange.PlainVariable("-x", "1")}, wantMsg: "invalid"},
		{name: "output dot", outputs: []exchange.Variable{exchange.PlainVariable("a.b", "1")}, wantMsg: "invalid"},
		{name: "duplicate output", outputs: []exchange.Variable{exchange.PlainVariable("a", "1"), exchange.PlainVariable("A", "2")},
			wantMsg: "twice"},
		{name: "invalid UTF-8", env: []exchange.Variable{exchange.PlainVariable("A", "\xff")}, wantMsg: "UTF-8"},
		{name: "delimiter collision",
			env:    []exchange.Variable{exchange.SecretVariable("A", exchange.NewSecret("FAKE\n"+zeroDelimiter+"\nLD_PRELOAD=/evil"))},
			random: func() interface{ Read([]byte) (int, error) } { return zeroReader{} }, wantErr: errDelimiterCollision},
		{name: "random source fails", env: []exchange.Variable{exchange.PlainVariable("A", "x")},
			random: func() interface{ Read([]byte) (int, error) } { return bytes.NewReader(nil) }, wantMsg: "random"},
		{name: "GITHUB_ENV unset", env: []exchange.Variable{exchange.PlainVariable("A", "x")}, unset: "GITHUB_ENV",
			wantMsg: "v2.297.0"},
		{name: "GITHUB_OUTPUT unset", env: []exchange.Variable{exchange.PlainVariable("A", "x")},
			outputs: []exchange.Variable{exchange.PlainVariable("a", "x")}, unset: "GITHUB_OUTPUT", wantMsg: "v2.297.0"},
		{name: "GITHUB_STATE unset", env: []exchange.Variable{exchange.PlainVariable("A", "x")}, unset: "GITHUB_STATE",
			wantMsg: "GITHUB_STATE is not set"},
		{name: "GITHUB_OUTPUT file missing", env: []exchange.Variable{exchange.PlainVariable("A", "x")},
			outputs: []exchange.Variable{exchange.PlainVariable("a", "x")}, missing: "GITHUB_OUTPUT", wantErr: os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := commandFiles(t)
			if tc.unset != "" {
				delete(vars, tc.unset)
			}
			if tc.missing != "" {
				if err := os.Remove(vars[tc.missing]); err != nil {
					t.Fatal(err)
				}
			}
			cfg := Config{Getenv: env(vars), Stdout: &syncBuffer{}, Random: &seqReader{}}
			if tc.random != nil {
				cfg.Random = tc.random()
			}
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}

			err = e.Export(context.Background(), &exchange.Credentials{Env: tc.env, Outputs: tc.outputs})

			if err == nil {
				t.Fatal("Export succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "FAKE") || strings.Contains(err.Error(), "/evil") {
				t.Errorf("error %q contains a value", err)
			}
			// All or nothing: no file was written, none was created.
			for _, v := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE"} {
				p, ok := vars[v]
				if !ok {
					continue
				}
				if v == tc.missing {
					if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s was created", v)
					}
					continue
				}
				if got := readFile(t, p); got != "" {
					t.Errorf("%s was written:\n%s", v, got)
				}
			}
		})
	}
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	values := []string{
		"",
		"plain",
		"two\nlines",
		"trailing newline\n",
		"\nleading newline",
		"crlf\r\nline",
		"ends in cr\r",
		"100% sure %0A %25",
		"x\n_GitHubActionsFileCommandDelimeter_\nLD_PRELOAD=/evil",
		"x\nghadelimiter_\nEVIL=1",
		"NAME<<EOF\nEOF",
		"unicode ✓ \u2028 line separator",
		"  spaces  ",
	}
	vars := commandFiles(t)
	e, _ := newTestEdge(t, env(vars))
	var env []exchange.Variable
	var want []pair
	for i, v := range values {
		name := "V" + strings.Repeat("_", i)
		env = append(env, exchange.SecretVariable(name, exchange.NewSecret(v)))
		want = append(want, pair{name, v})
	}
	if err := e.Export(context.Background(), &exchange.Credentials{Env: env}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	got, err := parseFileCommand(readFile(t, vars["GITHUB_ENV"]))
	if err != nil {
		t.Fatalf("GITHUB_ENV does not parse: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	crossCheckEnvFile(t, readFile(t, vars["GITHUB_ENV"]), want)
}

func TestExportAppends(t *testing.T) {
	t.Parallel()
	vars := commandFiles(t)
	if err := os.WriteFile(vars["GITHUB_ENV"], []byte("EARLIER=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _ := newTestEdge(t, env(vars))
	if err := e.Export(context.Background(), &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("A", "b")}}); err != nil {
		t.Fatal(err)
	}
	got, err := parseFileCommand(readFile(t, vars["GITHUB_ENV"]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]pair{{"EARLIER", "1"}, {"A", "b"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestExportNil(t *testing.T) {
	t.Parallel()
	e, _ := newTestEdge(t, env(commandFiles(t)))
	if err := e.Export(context.Background(), nil); err == nil {
		t.Error("Export(nil) succeeded")
	}
}

func TestExportRefusesNonRegularFile(t *testing.T) {
	t.Parallel()
	vars := commandFiles(t)
	vars["GITHUB_STATE"] = t.TempDir()
	e, _ := newTestEdge(t, env(vars))
	err := e.Export(context.Background(), &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("A", "b")}})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("err = %v, want a not-a-regular-file error", err)
	}
	if got := readFile(t, vars["GITHUB_ENV"]); got != "" {
		t.Errorf("GITHUB_ENV was written:\n%s", got)
	}
}

func TestSaveStateAndIsPost(t *testing.T) {
	t.Parallel()
	vars := commandFiles(t)
	e, _ := newTestEdge(t, env(vars))
	if IsPost(env(vars)) {
		t.Error("IsPost without STATE_post")
	}
	if err := e.MarkPost(); err != nil {
		t.Fatal(err)
	}
	if err := e.SaveState(map[string]string{StateFiles: "/github/runner_temp/b,/github/runner_temp/a", "zz": ""}); err != nil {
		t.Fatal(err)
	}
	if err := e.SaveState(map[string]string{"bad-key": "x"}); err == nil {
		t.Error("SaveState accepted a key with a hyphen")
	}
	got, err := parseFileCommand(readFile(t, vars["GITHUB_STATE"]))
	if err != nil {
		t.Fatal(err)
	}
	want := []pair{{StatePost, "true"}, {StateFiles, "/github/runner_temp/b,/github/runner_temp/a"}, {"zz", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}

	if !IsPost(env(map[string]string{"STATE_" + StatePost: "true"})) {
		t.Error("IsPost with STATE_post = false")
	}
}

func TestCleanup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	present := filepath.Join(dir, "credentials")
	gone := filepath.Join(dir, "already-gone")
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	for _, p := range []string{present, target} {
		if err := os.WriteFile(p, []byte("FAKE-secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		state       map[string]string
		wantEnv     []pair
		wantRemoved []string
		wantKept    []string
		wantLog     string
	}{
		{
			name: "with state",
			state: map[string]string{
				"STATE_" + StateExportedEnv: "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,,NODE_OPTIONS,BAD-NAME,AWS_ACCESS_KEY_ID",
				"STATE_" + StateFiles:       strings.Join([]string{present, gone, link, "relative/path", dir}, ","),
			},
			wantEnv:     []pair{{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}},
			wantRemoved: []string{present},
			wantKept:    []string{link, target, dir},
			wantLog:     "cleared the exported variables for later steps names=AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY",
		},
		{
			name:    "without state",
			state:   map[string]string{},
			wantLog: "nothing to clean up",
		},
		{
			name:    "empty state",
			state:   map[string]string{"STATE_" + StatePost: "true", "STATE_" + StateExportedEnv: ""},
			wantLog: "nothing to clean up",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Parallel: only "with state" names the shared files (and
			// removes one of them); the other cases name no files.
			t.Parallel()
			vars := commandFiles(t)
			for k, v := range tc.state {
				vars[k] = v
			}
			e, out := newTestEdge(t, env(vars))

			if err := e.Cleanup(context.Background()); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}

			got, err := parseFileCommand(readFile(t, vars["GITHUB_ENV"]))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantEnv, got); diff != "" {
				t.Errorf("GITHUB_ENV (-want +got):\n%s", diff)
			}
			for _, p := range tc.wantRemoved {
				if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s was not removed", p)
				}
			}
			for _, p := range tc.wantKept {
				if _, err := os.Lstat(p); err != nil {
					t.Errorf("%s was removed: %v", p, err)
				}
			}
			if !strings.Contains(out.String(), tc.wantLog) {
				t.Errorf("stdout does not mention %q:\n%s", tc.wantLog, out.String())
			}
			for _, l := range runnerLines(out.String()) {
				if c, ok := parseWorkflowCommand(l); ok && c.Name == "error" {
					t.Errorf("Cleanup printed an error: %s", l)
				}
			}
		})
	}
}

func TestCleanupWithoutGitHubEnv(t *testing.T) {
	t.Parallel()
	e, _ := newTestEdge(t, env(map[string]string{"STATE_" + StateExportedEnv: "A"}))
	if err := e.Cleanup(context.Background()); err == nil || !strings.Contains(err.Error(), "GITHUB_ENV") {
		t.Errorf("err = %v, want a GITHUB_ENV error", err)
	}
}

func TestCleanupLogsAtInfo(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	e, err := New(Config{Getenv: env(nil), Stdout: out, Logger: slog.New(NewLogHandler(out, slog.LevelInfo))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "nothing to clean up: the main step exported no variables and created no files\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}
