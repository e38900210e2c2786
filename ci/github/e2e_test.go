package github

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// TestEdgeOnSimulatedRunner drives a main and a post step through
// githubtest's model of a hosted runner: token, masks, exported variables
// and a credentials file for later host steps, state, audit record and
// summary, then cleanup.
func TestEdgeOnSimulatedRunner(t *testing.T) {
	t.Parallel()
	for _, mounted := range []bool{false, true} {
		name := "runner temp not mounted"
		if mounted {
			name = "runner temp mounted"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := githubtest.New(t, githubtest.Options{
				IDTokenPermission: true,
				MountRunnerTemp:   mounted,
				InputDefaults:     map[string]string{"runner-temp": "${{ runner.temp }}"},
				Args:              []string{"--runner-temp=${{ inputs.runner-temp }}"},
			})

			// Main step.
			step := r.Step(githubtest.Main, nil)
			var stdout bytes.Buffer
			e, err := New(Config{
				Getenv:     step.Getenv,
				Stdout:     &stdout,
				HTTPClient: httpclient.New(httpclient.Options{}),
				Retry:      testPolicy(),
				Logger:     slog.New(NewLogHandler(&stdout, slog.LevelDebug)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.MarkPost(); err != nil {
				t.Fatal(err)
			}
			tok, err := e.Token(ctx, testAudience)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}

			paths, err := NewPaths(step.Getenv, strings.TrimPrefix(step.Args[0], "--runner-temp="))
			if err != nil {
				t.Fatalf("NewPaths: %v", err)
			}
			if paths.HostTemp != r.HostTemp() || paths.RunnerTempMounted != mounted {
				t.Fatalf("paths = %+v, want host temp %s, mounted %v", paths, r.HostTemp(), mounted)
			}
			dir := ContainerHome
			if mounted {
				dir = ContainerRunnerTemp
			}
			file := path.Join(dir, "oidc-exchange-credentials")
			if err := os.WriteFile(r.ContainerPath(file), []byte("FAKE-file-secret"), 0o600); err != nil {
				t.Fatal(err)
			}
			hostFile, err := paths.ToHost(file)
			if err != nil {
				t.Fatalf("ToHost: %v", err)
			}
			if want := r.HostPath(file); hostFile != want {
				t.Fatalf("ToHost(%s) = %s, the runner maps it to %s", file, hostFile, want)
			}

			creds := fakeCredentials()
			creds.Env = append(creds.Env, exchange.PlainVariable("AWS_SHARED_CREDENTIALS_FILE", hostFile))
			for _, s := range creds.Secrets() {
				for _, form := range exchange.MaskForms(s) {
					if err := e.Mask(form); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := e.Export(ctx, creds); err != nil {
				t.Fatalf("Export: %v", err)
			}
			if err := e.SaveState(map[string]string{StateFiles: r.ContainerPath(file)}); err != nil {
				t.Fatal(err)
			}
			rec := hostileRecord()
			rec.TokenSHA256 = tok.SHA256()
			if err := e.Report(ctx, rec); err != nil {
				t.Fatalf("Report: %v", err)
			}

			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoProblems(t)
			res.AssertNoLeak(t, tok.Reveal(), "FAKE-access-key-id", "FAKE-secret", "FAKE-session-line-1\nFAKE-session-line-2")
			res.AssertNoInjectedCommands(t, "add-mask", "debug", "group", "endgroup")
			for _, v := range creds.Env {
				if got := res.Env[v.Name]; got != v.Value.Reveal() {
					t.Errorf("later steps see %s = %q, want %q", v.Name, got, v.Display())
				}
			}
			if got := res.Outputs["aws-account-id"]; got != "000000000000" {
				t.Errorf("output aws-account-id = %q", got)
			}
			if res.State[StatePost] == "" || !strings.Contains(res.State[StateExportedEnv], "AWS_SECRET_ACCESS_KEY") {
				t.Errorf("state = %q", res.State)
			}
			if res.Summary != rec.Markdown() {
				t.Errorf("summary = %q", res.Summary)
			}
			if got := string(r.ReadFromHostStep(t, res.Env["AWS_SHARED_CREDENTIALS_FILE"])); got != "FAKE-file-secret" {
				t.Errorf("a later host step reads %q", got)
			}

			// Post step.
			post := r.Step(githubtest.Post, nil)
			var postOut bytes.Buffer
			pe, err := New(Config{Getenv: post.Getenv, Stdout: &postOut, Logger: slog.New(NewLogHandler(&postOut, slog.LevelDebug))})
			if err != nil {
				t.Fatal(err)
			}
			if !IsPost(post.Getenv) {
				t.Error("IsPost = false in the post step")
			}
			if err := pe.Cleanup(ctx); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			pres := r.Finish(post, postOut.Bytes(), nil)
			pres.AssertNoProblems(t)
			pres.AssertNoInjectedCommands(t, "debug")
			var blanked []string
			for _, v := range creds.Env {
				if got, ok := pres.Env[v.Name]; !ok || got != "" {
					t.Errorf("after cleanup %s = %q, %v; want blank", v.Name, got, ok)
				}
				blanked = append(blanked, v.Name)
			}
			if diff := cmp.Diff(strings.Join(blanked, ","), post.Getenv("STATE_"+StateExportedEnv)); diff != "" {
				t.Errorf("STATE_exported_env (-want +got):\n%s", diff)
			}
			if _, err := os.Lstat(hostFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the credentials file survived the post step: %v", err)
			}
		})
	}
}
