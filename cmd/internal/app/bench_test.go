package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

// benchLatency models a remote service: every request to the token
// endpoint, discovery, JWKS and STS waits this long.
const benchLatency = 20 * time.Millisecond

// longestChain is the sequential minimum of a well-overlapped exchange:
// token → STS and discovery → JWKS are two requests each, run side by side.
const longestChain = 2 * benchLatency

func benchWorld(b *testing.B, subjects []string) *apptest.World {
	b.Helper()
	o := apptest.DefaultOptions()
	o.AWSSubjects = subjects
	w, err := apptest.New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Close)
	w.SetLatency(benchLatency)
	return w
}

// runActionOnce runs the action's main step in-process, as a fresh process
// would: new HTTP client, new verifier, cold discovery and JWKS.
func runActionOnce(b *testing.B, w *apptest.World, inputs map[string]string) (time.Duration, error) {
	b.Helper()
	stepEnv, err := w.StepEnv("bench", inputs)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	start := time.Now()
	err = realMain(context.Background(), &env{
		args: []string{"/oidc-exchange", "--runner-temp=" + w.HostTemp(stepEnv)}, getenv: func(k string) string { return stepEnv[k] },
		stdin: strings.NewReader(""), stdout: &out, stderr: &out,
	})
	return time.Since(start), err
}

func reportMedian(b *testing.B, samples []time.Duration) {
	reportMedianOf(b, samples, longestChain)
}

func reportMedianOf(b *testing.B, samples []time.Duration, chain time.Duration) {
	slices.Sort(samples)
	median := samples[len(samples)/2]
	b.ReportMetric(float64(median.Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(median)/float64(chain), "x-longest-chain")
}

// BenchmarkTimeToCredentialsGCP: federation then impersonation, two
// sequential exchanges, plus the credentials file. The longer chain is now
// token → STS → IAM Credentials (60 ms); target at most 1.2 × (72 ms).
func BenchmarkTimeToCredentialsGCP(b *testing.B) {
	w := benchWorld(b, []string{apptest.Subject})
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		d, err := runActionOnce(b, w, map[string]string{"provider": "gcp", "service-account": apptest.ServiceAccount})
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, d)
	}
	reportMedianOf(b, samples, 3*benchLatency)
}

// BenchmarkTimeToCredentials: the whole action against local endpoints
// with 20 ms per request. Target: at most 1.2 × the longer chain (48 ms),
// i.e. the chains overlap instead of adding up (80 ms).
// BenchmarkRoles compares three roles assumed in one step (roles: one
// token, three exchanges in parallel) with three steps of one role each,
// as a job written for configure-aws-credentials does it. Each request
// takes benchLatency, as in the other benchmarks.
func BenchmarkRoles(b *testing.B) {
	arns := []string{apptest.Role, "arn:aws:iam::111122223333:role/artifacts", "arn:aws:iam::111122223333:role/cache"}
	world := func(b *testing.B) *apptest.World {
		o := apptest.DefaultOptions()
		for _, a := range arns[1:] {
			o.AWSRoles = append(o.AWSRoles, stsfake.Role{ARN: a, Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: []string{apptest.Subject}}})
		}
		w, err := apptest.New(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Close)
		w.SetLatency(benchLatency)
		return w
	}
	b.Run("one-step", func(b *testing.B) {
		w := world(b)
		lines := fmt.Sprintf("a=%s\nb=%s\nc=%s\n", arns[0], arns[1], arns[2])
		samples := make([]time.Duration, 0, b.N)
		for b.Loop() {
			d, err := runActionOnce(b, w, map[string]string{"roles": lines, "role-to-assume": "", "overwrite-aws-profile": "true"})
			if err != nil {
				b.Fatal(err)
			}
			samples = append(samples, d)
		}
		reportMedian(b, samples)
	})
	b.Run("three-steps", func(b *testing.B) {
		w := world(b)
		samples := make([]time.Duration, 0, b.N)
		for b.Loop() {
			var total time.Duration
			for _, a := range arns {
				d, err := runActionOnce(b, w, map[string]string{"role-to-assume": a})
				if err != nil {
					b.Fatal(err)
				}
				total += d
			}
			samples = append(samples, total)
		}
		reportMedian(b, samples)
	})
}

func BenchmarkTimeToCredentials(b *testing.B) {
	w := benchWorld(b, []string{apptest.Subject})
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		d, err := runActionOnce(b, w, nil)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, d)
	}
	reportMedian(b, samples)
}

// BenchmarkTimeToCredentialsBroker: one RFC 8693 exchange with client
// authentication. Its chains are those of AWS (token → broker, discovery
// → JWKS), so the same target applies: at most 1.2 × 40 ms.
func BenchmarkTimeToCredentialsBroker(b *testing.B) {
	w := benchWorld(b, []string{apptest.Subject})
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		d, err := runActionOnce(b, w, map[string]string{"provider": "broker", "broker-scope": "deploy"})
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, d)
	}
	reportMedian(b, samples)
}

// BenchmarkPermanentError: AccessDenied and a wrong audience must fail at
// once, without retries. Target: under 1 s.
func BenchmarkPermanentError(b *testing.B) {
	for name, tc := range map[string]struct {
		subjects []string
		inputs   map[string]string
		wantExit int
	}{
		"AccessDenied":  {subjects: []string{"repo:nobody/*"}, wantExit: exitDenied},
		"WrongAudience": {subjects: []string{apptest.Subject}, inputs: map[string]string{"audience": "https://github.com/octo-org"}, wantExit: exitToken},
	} {
		b.Run(name, func(b *testing.B) {
			w := benchWorld(b, tc.subjects)
			samples := make([]time.Duration, 0, b.N)
			for b.Loop() {
				d, err := runActionOnce(b, w, tc.inputs)
				if exitCode(err) != tc.wantExit {
					b.Fatalf("exit %d (%v), want %d", exitCode(err), err, tc.wantExit)
				}
				samples = append(samples, d)
			}
			reportMedian(b, samples)
		})
	}
}

// BenchmarkBinary builds the stripped release binary, reports its size,
// and runs it as the action against the sandbox to report its peak RSS.
// Targets: at most 16 MiB and 18 MB (a quarter of configure-aws-credentials'
// 70 MB); CONTRIBUTING.md says what keeps the binary above them.
//
// The RSS is read by GNU time, not from our own wait4: Go starts children
// with CLONE_VM, and Linux carries the parent's high-water mark across the
// exec, so a child of this (large) test process would report the test's
// RSS. time forks the binary from a small process and reports it alone.
func BenchmarkBinary(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "oidc-exchange")
	build := exec.CommandContext(b.Context(), "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../../oidc-exchange")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Skip("GNU time (/usr/bin/time) is needed to measure the peak RSS")
	}
	w := benchWorld(b, []string{apptest.Subject})
	w.SetLatency(0)
	report := filepath.Join(b.TempDir(), "rss")
	var peaks []float64
	for b.Loop() {
		stepEnv, err := w.StepEnv("bin", nil)
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.CommandContext(b.Context(), gnuTime, "-f", "%M", "-o", report, bin)
		for k, v := range stepEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("binary: %v\n%s", err, out)
		}
		kib, err := os.ReadFile(report)
		if err != nil {
			b.Fatal(err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(kib)), 64)
		if err != nil {
			b.Fatalf("GNU time said %q: %v", kib, err)
		}
		peaks = append(peaks, v/1024)
	}
	slices.Sort(peaks)
	b.ReportMetric(peaks[len(peaks)/2], "MiB-peak-rss")
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-binary")
}

// BenchmarkStartPaths compares what each way of running the action costs
// before credentials exist, against the loopback fakes with no injected
// latency (AWS; the exchange itself is a few milliseconds):
//
//   - binary: the release binary run directly as a native step;
//   - native-cold: native/main.js under node with an empty tool cache:
//     download from a loopback release server, SHA-256, run;
//   - native-warm: the same with the binary in the tool cache (hashed
//     again, then run);
//   - container-version and container: the image under podman with the
//     runner's docker run command line, for `version` alone and for the
//     exchange (needs OIDC_EXCHANGE_IMAGE and root, see container_test.go).
//
// Each reports the median of its iterations (ms-median): the time from
// starting the process (the binary, node, or podman) to its exit, which is
// what a job waits for; the simulation's bookkeeping is not counted. The
// container's exchange uses --network host to reach the fakes, which spares
// it the network namespace setup that version alone pays on the default
// network.
func BenchmarkStartPaths(b *testing.B) {
	_, sum := buildNativeRelease(b)
	median := func(b *testing.B, samples []time.Duration) {
		slices.Sort(samples)
		b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "ms-median")
	}
	b.Run("binary", func(b *testing.B) {
		k := newNativeKit(b, sum)
		dir, _ := buildNativeRelease(b)
		bin := filepath.Join(dir, nativeVersion, nativeAsset())
		var samples []time.Duration
		for b.Loop() {
			step := k.h.runner.Step(githubtest.Main, nil)
			cmd := exec.CommandContext(b.Context(), bin, "--native")
			cmd.Dir, cmd.Env = step.Dir, step.Environ()
			start := time.Now()
			out, err := cmd.CombinedOutput()
			samples = append(samples, time.Since(start))
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			k.h.runner.Finish(step, out, nil)
		}
		median(b, samples)
	})
	for _, cold := range []bool{true, false} {
		b.Run(map[bool]string{true: "native-cold", false: "native-warm"}[cold], func(b *testing.B) {
			k := newNativeKit(b, sum)
			var samples []time.Duration
			for b.Loop() {
				if cold {
					b.StopTimer()
					if err := os.RemoveAll(filepath.Join(k.toolCache, "oidc-exchange")); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				res, code := k.run(githubtest.Main, nil)
				samples = append(samples, k.elapsed)
				if code != exitOK {
					b.Fatalf("exit %d:\n%s", code, res.MaskedStdout)
				}
			}
			median(b, samples)
		})
	}
	b.Run("container-version", func(b *testing.B) {
		c := containerRuntime(b)
		var samples []time.Duration
		for b.Loop() {
			start := time.Now()
			// The runner's --rm, no --user, the default network.
			out, err := exec.CommandContext(b.Context(), c.runtime, "run", "--rm", c.image, "version").CombinedOutput()
			samples = append(samples, time.Since(start))
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
		median(b, samples)
	})
	b.Run("container", func(b *testing.B) {
		c := containerRuntime(b)
		h := newHarness(b, harnessOptions{mode: githubtest.RealContainer, runnerUser: &runnerUser, mountRunnerTemp: true})
		var samples []time.Duration
		for b.Loop() {
			res, _, code := h.runContainer(c, githubtest.Main, nil)
			samples = append(samples, h.lastRun)
			if code != exitOK {
				b.Fatalf("exit %d:\n%s", code, res.MaskedStdout)
			}
		}
		median(b, samples)
	})
}
