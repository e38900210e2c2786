package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
)

// The native action end to end: native/main.js and post.js under node, in
// the runner simulation's native mode, download the real binary (built
// here, stamped with nativeVersion) from a loopback release server, check
// it against a release.json written for it, and run it against the fakes.
// Needs node; without it the tests skip, unless
// OIDC_EXCHANGE_NATIVE_REQUIRED=1 (set by .ci/run).

const nativeVersion = "v0.0.0-nativetest"

// nativeAsset is this platform's release asset name.
func nativeAsset() string {
	name := "oidc-exchange_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

var nativeBuild struct {
	once sync.Once
	dir  string // holds nativeVersion/<asset>, as a release download URL does
	sum  string
	err  error
}

// buildNativeRelease builds the binary once per test process, as
// scripts/build-release does, into a directory laid out like the release
// download URL.
func buildNativeRelease(tb testing.TB) (dir, sum string) {
	tb.Helper()
	nativeBuild.once.Do(func() {
		d, err := os.MkdirTemp("", "oidc-exchange-native-release-")
		if err != nil {
			nativeBuild.err = err
			return
		}
		bin := filepath.Join(d, nativeVersion, nativeAsset())
		cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-ldflags",
			"-s -w -X github.com/oidc-exchange/oidc-exchange/internal/version.Version="+nativeVersion, "-o", bin, "../../oidc-exchange")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			nativeBuild.err = fmt.Errorf("build: %w\n%s", err, out)
			return
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			nativeBuild.err = err
			return
		}
		h := sha256.Sum256(b)
		nativeBuild.dir, nativeBuild.sum = d, hex.EncodeToString(h[:])
	})
	if nativeBuild.err != nil {
		tb.Fatal(nativeBuild.err)
	}
	return nativeBuild.dir, nativeBuild.sum
}

// TestMain removes the shared native release build.
func TestMain(m *testing.M) {
	code := m.Run()
	if nativeBuild.dir != "" {
		os.RemoveAll(nativeBuild.dir)
	}
	os.Exit(code)
}

// nativeKit is one job's native action: its files with a release.json that
// pins sum, a release server, and a tool cache.
type nativeKit struct {
	h         *harness
	actionDir string
	toolCache string
	server    *httptest.Server
	requests  atomic.Int64
	node      string
	// elapsed is how long the last run's node process took, from start to
	// exit: what a job waits for.
	elapsed time.Duration
}

func newNativeKit(tb testing.TB, pinned string) *nativeKit {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("OIDC_EXCHANGE_NATIVE_REQUIRED") == "1" {
			tb.Fatal("node is needed for the native action's tests:", err)
		}
		tb.Skip("native action tests skipped: node is not installed")
	}
	releaseDir, _ := buildNativeRelease(tb)
	k := &nativeKit{node: node, toolCache: tb.TempDir(), actionDir: tb.TempDir()}
	for _, f := range []string{"action.yml", "main.js", "post.js", "lib.js"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "native", f))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(k.actionDir, f), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	rel, err := json.Marshal(map[string]any{
		"version": nativeVersion, "commit": strings.Repeat("0", 40), "sha256": map[string]string{nativeAsset(): pinned},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(k.actionDir, "release.json"), rel, 0o644); err != nil {
		tb.Fatal(err)
	}
	files := http.FileServer(http.Dir(releaseDir))
	k.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.requests.Add(1)
		files.ServeHTTP(w, r)
	}))
	tb.Cleanup(k.server.Close)
	k.h = newHarness(tb, harnessOptions{mode: githubtest.Native, context: map[string]string{"RUNNER_TOOL_CACHE": k.toolCache}})
	return k
}

// run runs main.js or post.js as the runner runs a node action: in the
// workspace, with the step's environment (which has no PATH of its own;
// the runner's is inherited) and the release server as the download URL.
func (k *nativeKit) run(stage githubtest.Stage, inputs map[string]string) (*githubtest.StepResult, int) {
	k.h.t.Helper()
	step := k.h.runner.Step(stage, inputs)
	script := "main.js"
	if stage == githubtest.Post {
		script = "post.js"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.node, filepath.Join(k.actionDir, script))
	cmd.Dir = step.Dir
	cmd.Env = append(step.Environ(), "PATH="+os.Getenv("PATH"), "OIDC_EXCHANGE_RELEASE_URL="+k.server.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	var exit *exec.ExitError
	start := time.Now()
	err := cmd.Run()
	k.elapsed = time.Since(start)
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		k.h.t.Fatalf("node %s: %v", script, err)
	}
	res := k.h.runner.Finish(step, stdout.Bytes(), stderr.Bytes())
	res.AssertNoProblems(k.h.t)
	res.AssertNoLeak(k.h.t, k.h.secrets()...)
	res.AssertNoInjectedCommands(k.h.t, allowedCommands...)
	return res, code
}

func TestNativeActionAWS(t *testing.T) {
	t.Parallel()
	_, sum := buildNativeRelease(t)
	k := newNativeKit(t, sum)
	audit := filepath.Join(k.h.runner.HostTemp(), "audit.jsonl")
	res, code := k.run(githubtest.Main, map[string]string{"audit-log": audit})
	if code != exitOK {
		t.Fatalf("main exited %d:\n%s\n%s", code, res.MaskedStdout, res.Stderr)
	}
	issued := k.h.sts.Requests()
	if len(issued) != 1 || issued[0].Issued == nil || res.Env["AWS_SECRET_ACCESS_KEY"] != issued[0].Issued.SecretAccessKey {
		t.Fatal("later steps do not get the credentials STS issued")
	}
	bin := res.State["oidc_exchange_binary"]
	if want := filepath.Join(k.toolCache, "oidc-exchange", strings.TrimPrefix(nativeVersion, "v")); !strings.HasPrefix(bin, want) {
		t.Errorf("ran %q, want a binary cached under %s", bin, want)
	}
	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"version":"`+nativeVersion+`"`) || !strings.Contains(string(b), `"outcome":"success"`) {
		t.Errorf("audit record %s lacks the release version or success", b)
	}
	if k.requests.Load() != 1 {
		t.Errorf("the release server saw %d requests, want 1", k.requests.Load())
	}

	// A second job on the same runner takes the binary from the tool cache.
	again, code := k.run(githubtest.Main, nil)
	if code != exitOK {
		t.Fatalf("second main exited %d:\n%s", code, again.MaskedStdout)
	}
	if k.requests.Load() != 1 {
		t.Errorf("the cached binary was downloaded again: %d requests", k.requests.Load())
	}

	post, code := k.run(githubtest.Post, nil)
	if code != exitOK {
		t.Fatalf("post exited %d:\n%s", code, post.MaskedStdout)
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if got, ok := post.Env[v]; !ok || got != "" {
			t.Errorf("after post %s = %q (set %v), want blanked", v, got, ok)
		}
	}
}

func TestNativeActionGCP(t *testing.T) {
	t.Parallel()
	_, sum := buildNativeRelease(t)
	k := newNativeKit(t, sum)
	res, code := k.run(githubtest.Main, map[string]string{"provider": "gcp", "sts-endpoint": k.h.gcpURL, "service-account": apptest.ServiceAccount})
	if code != exitOK {
		t.Fatalf("main exited %d:\n%s\n%s", code, res.MaskedStdout, res.Stderr)
	}
	p := res.Outputs["credentials-file-path"]
	if filepath.Dir(p) != k.h.runner.HostTemp() || res.Env["GOOGLE_APPLICATION_CREDENTIALS"] != p {
		t.Fatalf("credentials-file-path = %q, GOOGLE_APPLICATION_CREDENTIALS = %q; want one file in RUNNER_TEMP %s",
			p, res.Env["GOOGLE_APPLICATION_CREDENTIALS"], k.h.runner.HostTemp())
	}
	var creds struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(k.h.runner.ReadFromHostStep(t, p), &creds); err != nil || creds.Type != "external_account" {
		t.Errorf("credentials file type %q (%v), want external_account", creds.Type, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file: %v, %v; want mode 0600", fi, err)
	}
	if _, code := k.run(githubtest.Post, nil); code != exitOK {
		t.Fatalf("post exited %d", code)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after post the credentials file is still there (%v)", err)
	}
}

// TestNativeActionChecksumMismatch pins a checksum the served binary does
// not have: the action refuses to run it, so nothing reaches STS, and the
// post step has nothing to run.
func TestNativeActionChecksumMismatch(t *testing.T) {
	t.Parallel()
	k := newNativeKit(t, strings.Repeat("ab", 32))
	res, code := k.run(githubtest.Main, nil)
	if code != 1 {
		t.Errorf("main exited %d, want 1", code)
	}
	if !strings.Contains(res.MaskedStdout, "::error::") || !strings.Contains(res.MaskedStdout, "refusing to run it") {
		t.Errorf("no refusal in the log:\n%s", res.MaskedStdout)
	}
	if n := len(k.h.sts.Requests()); n != 0 || len(k.h.runner.Token.Issued()) != 0 {
		t.Errorf("the binary ran: STS saw %d requests, the token endpoint minted %d", n, len(k.h.runner.Token.Issued()))
	}
	if _, ok := res.State["oidc_exchange_binary"]; ok {
		t.Error("state names a binary that was never verified")
	}
	if len(res.Env) != 0 {
		t.Errorf("exported %v", slices.Sorted(maps.Keys(res.Env)))
	}
	if _, code := k.run(githubtest.Post, nil); code != exitOK {
		t.Errorf("post exited %d, want 0 (nothing to clean up)", code)
	}
}
