package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
)

// The container scenarios run the release image in a real container
// runtime, started with the GitHub runner's own docker run command line
// (githubtest.DockerRunArgs: its -e, -v and --workdir, no --user, the
// post-entrypoint for post) against the fakes on the host's 127.0.0.1.
// Everything is asserted from the host side, as the runner user (uid 1001)
// who owns the runner's directories sees it.
//
// They need the image and root (the runner's daemon is rootful):
//
//	scripts/release-dry-run                      # builds localhost/oidc-exchange:dry-run
//	OIDC_EXCHANGE_IMAGE=localhost/oidc-exchange:dry-run go test -run Container ./cmd/internal/app/
//
// Without OIDC_EXCHANGE_IMAGE they are skipped, unless
// OIDC_EXCHANGE_CONTAINER_REQUIRED=1 (set by .ci/run) makes that a failure.
// OIDC_EXCHANGE_CONTAINER_RUNTIME names the runtime (default podman); the
// only flag the runner would not pass is --network host, which a job with a
// service container gets too, so the container reaches the loopback fakes.

// runnerUser is the hosted runner's user, who owns <work> and every
// file-command file.
var runnerUser = githubtest.Owner{UID: 1001, GID: 1001}

type containerEnv struct {
	runtime, image, sock string
}

func containerRuntime(t testing.TB) containerEnv {
	t.Helper()
	image := os.Getenv("OIDC_EXCHANGE_IMAGE")
	skip := t.Skip
	if os.Getenv("OIDC_EXCHANGE_CONTAINER_REQUIRED") == "1" {
		skip = t.Fatal
	}
	if image == "" {
		skip("container scenarios skipped: OIDC_EXCHANGE_IMAGE is not set (build it with scripts/release-dry-run, then OIDC_EXCHANGE_IMAGE=localhost/oidc-exchange:dry-run)")
	}
	if os.Geteuid() != 0 {
		skip("container scenarios skipped: they need root, as the runner's rootful Docker runs the container and owns nothing of <work>")
	}
	rt := os.Getenv("OIDC_EXCHANGE_CONTAINER_RUNTIME")
	if rt == "" {
		rt = "podman"
	}
	if _, err := exec.LookPath(rt); err != nil {
		skip("container scenarios skipped: " + err.Error())
	}
	// The runner mounts its daemon's socket; without a daemon any file
	// stands in for it.
	sock := filepath.Join(t.TempDir(), "docker.sock")
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return containerEnv{runtime: rt, image: image, sock: sock}
}

// runContainer runs one stage of the action as the runner does, in a real
// container, and processes its output and file commands.
func (h *harness) runContainer(c containerEnv, stage githubtest.Stage, inputs map[string]string) (*githubtest.StepResult, *githubtest.StepEnv, int) {
	h.t.Helper()
	step := h.runner.Step(stage, inputs)
	o := githubtest.DockerRunOptions{Image: c.image, Network: "host", DockerSock: c.sock}
	if stage == githubtest.Post {
		o.Entrypoint = h.action.Runs.PostEntrypoint
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.runtime, h.runner.DockerRunArgs(step, o)...)
	cmd.Env = githubtest.DockerEnviron(os.Environ(), step)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	h.lastRun = time.Since(start)
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		h.t.Fatalf("%s %s: %v", c.runtime, stage, err)
	}
	res := h.runner.Finish(step, stdout.Bytes(), stderr.Bytes())
	res.AssertNoProblems(h.t)
	res.AssertNoLeak(h.t, h.secrets()...)
	res.AssertNoInjectedCommands(h.t, allowedCommands...)
	return res, step, code
}
