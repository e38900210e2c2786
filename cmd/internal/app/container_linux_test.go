//go:build linux

package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
)

// The container scenarios (see container_test.go). They read files as the
// runner user and check owners, which needs Linux's credentials and stat_t.

// readAsRunner reads p as the runner user would in a later host step.
func readAsRunner(t *testing.T, p string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "cat", p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(runnerUser.UID), Gid: uint32(runnerUser.GID)}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("the runner user (uid %d) cannot read %s: %v: %s", runnerUser.UID, p, err, stderr.String())
	}
	return b
}

// assertOwner checks p's owner and mode.
func assertOwner(t *testing.T, p string, want githubtest.Owner, mode fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("%s: no stat_t", p)
	}
	if int(st.Uid) != want.UID || int(st.Gid) != want.GID || fi.Mode() != mode {
		t.Errorf("%s is %v owned by %d:%d, want %v owned by %d:%d", p, fi.Mode(), st.Uid, st.Gid, mode, want.UID, want.GID)
	}
}

// assertFileCommandsOwned checks that the runner's file-command files are
// still the runner user's after root in the container appended to them.
func assertFileCommandsOwned(t *testing.T, step *githubtest.StepEnv) {
	t.Helper()
	for _, p := range step.FileCommands() {
		assertOwner(t, p, runnerUser, 0o644)
	}
}

// onBothRunners runs scenario in a real container on a runner that mounts
// the runner temp directory (v2.331.0 and later) and on one that does not.
func onBothRunners(t *testing.T, scenario func(t *testing.T, c containerEnv, h *harness, mounted bool)) {
	t.Helper()
	c := containerRuntime(t)
	for _, mounted := range []bool{true, false} {
		name := map[bool]string{true: "runner v2.331+ (runner temp mounted)", false: "older runner (no runner temp mount)"}[mounted]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{mode: githubtest.RealContainer, runnerUser: &runnerUser, mountRunnerTemp: mounted})
			scenario(t, c, h, mounted)
		})
	}
}

func TestContainerAWS(t *testing.T) {
	t.Parallel()
	onBothRunners(t, func(t *testing.T, c containerEnv, h *harness, mounted bool) {
		// As a workflow writes it: ${{ runner.temp }}/audit.jsonl where
		// the runner temp is mounted (the runner translates the input),
		// a workspace path where it is not.
		audit, auditHost := "audit.jsonl", filepath.Join(h.runner.HostWorkspace(), "audit.jsonl")
		if mounted {
			audit = filepath.Join(h.runner.HostTemp(), "audit.jsonl")
			auditHost = audit
		}
		res, step, code := h.runContainer(c, githubtest.Main, map[string]string{"audit-log": audit})
		if code != exitOK {
			t.Fatalf("main exited %d:\n%s\n%s", code, res.MaskedStdout, res.Stderr)
		}
		issued := h.sts.Requests()
		if len(issued) != 1 || issued[0].Issued == nil {
			t.Fatalf("STS saw %d requests, want 1 that issued credentials", len(issued))
		}
		if res.Env["AWS_ACCESS_KEY_ID"] != issued[0].Issued.AccessKeyID || res.Env["AWS_SESSION_TOKEN"] != issued[0].Issued.SessionToken {
			t.Error("later steps do not get the issued credentials")
		}
		if res.Outputs["aws-account-id"] != "111122223333" {
			t.Errorf("aws-account-id = %q", res.Outputs["aws-account-id"])
		}
		assertFileCommandsOwned(t, step)
		assertOwner(t, auditHost, runnerUser, 0o600)
		var rec map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(readAsRunner(t, auditHost)), &rec); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		// The release build stamps its version (the dry run's
		// v0.0.0-dryrun); an unstamped build would say "devel".
		if rec["outcome"] != "success" || rec["token_verified"] != true || !strings.HasPrefix(fmt.Sprint(rec["version"]), "v") {
			t.Errorf("audit record = %v", rec)
		}

		post, postStep, code := h.runContainer(c, githubtest.Post, nil)
		if code != exitOK {
			t.Fatalf("post exited %d:\n%s", code, post.MaskedStdout)
		}
		for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if got, ok := post.Env[v]; !ok || got != "" {
				t.Errorf("after post %s = %q (set %v), want blanked", v, got, ok)
			}
		}
		assertFileCommandsOwned(t, postStep)
	})
}

func TestContainerGCPImpersonation(t *testing.T) {
	t.Parallel()
	onBothRunners(t, func(t *testing.T, c containerEnv, h *harness, mounted bool) {
		res, step, code := h.runContainer(c, githubtest.Main, map[string]string{"provider": "gcp", "sts-endpoint": h.gcpURL, "service-account": apptest.ServiceAccount})
		if code != exitOK {
			t.Fatalf("main exited %d:\n%s\n%s", code, res.MaskedStdout, res.Stderr)
		}
		if res.Outputs["access-token"] == "" || res.Outputs["project-id"] != "my-project" {
			t.Errorf("outputs = %v", slices.Sorted(maps.Keys(res.Outputs)))
		}
		p := res.Outputs["credentials-file-path"]
		wantDir := filepath.Join(h.runner.HostTemp(), "_github_home")
		if mounted {
			wantDir = h.runner.HostTemp()
		}
		if filepath.Dir(p) != wantDir || !strings.HasPrefix(filepath.Base(p), "gha-creds-") {
			t.Fatalf("credentials-file-path = %q, want a host path in %s", p, wantDir)
		}
		for _, v := range gcpFileVars {
			if res.Env[v] != p {
				t.Errorf("%s = %q, want %q", v, res.Env[v], p)
			}
		}
		assertFileCommandsOwned(t, step)
		assertOwner(t, p, runnerUser, 0o600)
		var creds struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(readAsRunner(t, p), &creds); err != nil || creds.Type != "external_account" {
			t.Errorf("the runner user reads a credentials file of type %q (%v), want external_account", creds.Type, err)
		}

		post, _, code := h.runContainer(c, githubtest.Post, nil)
		if code != exitOK {
			t.Fatalf("post exited %d:\n%s", code, post.MaskedStdout)
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after post the credentials file is still there (%v)", err)
		}
	})
}

// TestContainerAWSRefresh runs refresh in the real image: the copy of the
// binary and the config file land on the host, the runner user's, and the
// runner user runs the profile's credential_process from a host step (as
// an SDK would, with sh -c and the step's environment) and gets fresh
// credentials from the fake STS.
func TestContainerAWSRefresh(t *testing.T) {
	t.Parallel()
	onBothRunners(t, func(t *testing.T, c containerEnv, h *harness, _ bool) {
		res, _, code := h.runContainer(c, githubtest.Main, map[string]string{"refresh": "true"})
		if code != exitOK {
			t.Fatalf("main exited %d:\n%s\n%s", code, res.MaskedStdout, res.Stderr)
		}
		if _, ok := res.Env["AWS_SECRET_ACCESS_KEY"]; ok {
			t.Error("refresh exported a key")
		}
		configFile := res.Env["AWS_CONFIG_FILE"]
		assertOwner(t, configFile, runnerUser, 0o600)
		conf := string(readAsRunner(t, configFile))
		installed := installedCopy(t, conf)
		assertOwner(t, installed, runnerUser, 0o700)
		var line string
		for _, l := range strings.Split(conf, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "credential_process" {
				line = strings.TrimSpace(v)
			}
		}
		later := h.runner.Step(githubtest.Main, nil)
		cmd := exec.CommandContext(t.Context(), "sh", "-c", line)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(runnerUser.UID), Gid: uint32(runnerUser.GID)}}
		cmd.Dir = h.runner.HostWorkspace()
		for _, n := range []string{"GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "PATH"} {
			v := later.Getenv(n)
			if n == "PATH" {
				v = os.Getenv("PATH")
			}
			cmd.Env = append(cmd.Env, n+"="+v)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the runner user's credential_process: %v\n%s", err, stderr.String())
		}
		var got struct {
			Version         int
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string
		}
		if err := json.Unmarshal(out, &got); err != nil || got.Version != 1 {
			t.Fatalf("credential_process printed %d bytes that are not version 1 JSON (%v)", len(out), err)
		}
		reqs := h.sts.Requests()
		if last := reqs[len(reqs)-1].Issued; len(reqs) != 2 || last == nil || last.AccessKeyID != got.AccessKeyID {
			t.Errorf("the refresh's keys are not the second session STS issued (%d requests)", len(reqs))
		}

		post, _, code := h.runContainer(c, githubtest.Post, nil)
		if code != exitOK {
			t.Fatalf("post exited %d:\n%s", code, post.MaskedStdout)
		}
		for _, p := range []string{installed, configFile} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after post %s is still there (%v)", p, err)
			}
		}
	})
}
