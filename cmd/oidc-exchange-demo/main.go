package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/oidc-exchange/oidc-exchange/cmd/internal/app"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
)

// about is what the demo shows, and says so.
const about = `Runs the real oidc-exchange program end to end in a local sandbox: an OIDC issuer,
GitHub's ID-token endpoint, AWS STS (Query/XML), Google's STS and IAM Credentials and
an RFC 8693 broker run in this process on 127.0.0.1. No account is needed.`

// exitUsage is the program's own code for bad input. A scenario that shows
// a failure is a success of the demo; only a happy path that fails exits
// with the program's code for that failure.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "oidc-exchange-demo: %v\n", err)
		os.Exit(exitUsage)
	case err != nil:
		os.Exit(app.ExitCode(err))
	}
}

// usageError is a command-line mistake.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type demoScenario struct {
	name    string
	summary string
	world   func(o *apptest.Options)
	inputs  map[string]string
}

func demoScenarios() map[string]demoScenario {
	return map[string]demoScenario{
		"aws": {
			name:    "aws",
			summary: "a push to main assumes arn:aws:iam::111122223333:role/deploy",
			inputs: map[string]string{
				"expect-claims":      "repository_owner_id=123456\nref=refs/heads/main",
				"output-credentials": "true",
			},
		},
		"aws-denied": {
			name:    "aws-denied",
			summary: "the role trusts only the production environment; STS says AccessDenied and oidc-exchange explains why",
			world:   func(o *apptest.Options) { o.AWSSubjects = []string{"repo:octo-org/octo-repo:environment:production"} },
		},
		"aws-claims": {
			name:    "aws-claims",
			summary: "expect-claims requires ref=refs/heads/release; the job fails before the token leaves the runner",
			inputs:  map[string]string{"expect-claims": "ref=refs/heads/release\nrepository_owner_id=123456"},
		},
		"gcp": {
			name: "gcp",
			summary: "a push to main federates through a Workload Identity Provider pinned to the repository's ids, " +
				"impersonates " + apptest.ServiceAccount + " and writes a self-refreshing credentials file",
			inputs: map[string]string{"provider": "gcp", "service-account": apptest.ServiceAccount},
		},
		"broker": {
			name: "broker",
			summary: "a push to main trades its token, minted for the broker's own audience, at an RFC 8693 endpoint " +
				"that authenticates this client and checks repository_owner_id and ref",
			inputs: map[string]string{"provider": "broker", "broker-scope": "deploy"},
		},
		"gcp-denied": {
			name:    "gcp-denied",
			summary: "the provider's attribute condition admits another repository id; STS says invalid_grant and oidc-exchange explains why",
			world:   func(o *apptest.Options) { o.GCPCondition = map[string]string{"repository_id": "999999"} },
			inputs:  map[string]string{"provider": "gcp", "service-account": apptest.ServiceAccount},
		},
	}
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("oidc-exchange-demo", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "usage: oidc-exchange-demo [scenario]\n\n%s\nScenarios: %s (default aws).\n",
			about, strings.Join(slices.Sorted(maps.Keys(demoScenarios())), ", "))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{msg: err.Error()}
	}
	name := "aws"
	if fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	sc, ok := demoScenarios()[name]
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown demo scenario %q, valid scenarios are %q", name, slices.Sorted(maps.Keys(demoScenarios())))}
	}
	o := apptest.DefaultOptions()
	if sc.world != nil {
		sc.world(&o)
	}
	w, err := apptest.New(o)
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer w.Close()
	stepEnv, err := w.StepEnv("main", sc.inputs)
	if err != nil {
		return err
	}
	// Relative, as a workflow would write it: the workspace is where the
	// runner starts the container.
	stepEnv["INPUT_AUDIT-LOG"] = "audit.jsonl"

	var stdout, stderr bytes.Buffer
	stepErr := app.Main(ctx, []string{"oidc-exchange", "--runner-temp=" + w.HostTemp(stepEnv)},
		func(k string) string { return stepEnv[k] }, strings.NewReader(""), &stdout, &stderr)

	fmt.Fprintf(out, "oidc-exchange demo %q: %s.\n", sc.name, sc.summary)
	fmt.Fprintln(out, "LOCAL SANDBOX: the OIDC issuer, GitHub's ID-token endpoint, AWS STS, Google's STS and IAM Credentials and an RFC 8693 broker run in this process on 127.0.0.1;")
	fmt.Fprintln(out, "the action itself runs unchanged (real go-oidc verification, the real AWS and Google client libraries, real runner file commands).")
	masks := collectMasks(stdout.String())
	section(out, "Step log, as the runner shows it (workflow commands rendered, masks applied)")
	fmt.Fprint(out, runnerView(stdout.String()+stderr.String(), masks))
	section(out, "Exported to later steps (GITHUB_ENV), secret values redacted")
	printFileCommands(out, w.Files["GITHUB_ENV"], masks)
	section(out, "Step outputs (GITHUB_OUTPUT), secret values redacted")
	printFileCommands(out, w.Files["GITHUB_OUTPUT"], masks)
	section(out, "Job summary (GITHUB_STEP_SUMMARY)")
	summary, _ := os.ReadFile(w.Files["GITHUB_STEP_SUMMARY"])
	fmt.Fprint(out, applyMasks(string(summary), masks))
	section(out, "Audit log file (audit-log input)")
	audit, _ := os.ReadFile(filepath.Join(stepEnv["GITHUB_WORKSPACE"], "audit.jsonl"))
	fmt.Fprint(out, applyMasks(string(audit), masks))
	section(out, "Result")
	fmt.Fprintf(out, "exit code %d", app.ExitCode(stepErr))
	if stepErr != nil {
		fmt.Fprintf(out, " (%v)", stepErr)
	}
	calls := len(w.STS.Requests())
	switch {
	case strings.HasPrefix(name, "gcp"):
		calls = len(w.GCP.Requests())
	case strings.HasPrefix(name, "broker"):
		calls = len(w.Broker.Requests())
	}
	fmt.Fprintf(out, "; %d secret values masked; the cloud saw %d request(s).\n", len(masks), calls)
	if files := credentialFiles(stepEnv["RUNNER_TEMP"]); len(files) > 0 {
		fmt.Fprintf(out, "Credentials file (mode %s, contents not shown: it holds the runner's request token): %s\n", files[0].mode, files[0].path)
	}
	if (name == "aws" || name == "gcp" || name == "broker") && stepErr != nil {
		return stepErr
	}
	return nil
}

func section(w interface{ Write([]byte) (int, error) }, title string) {
	fmt.Fprintf(w, "\n── %s ──\n", title)
}

// collectMasks reads ::add-mask:: commands the way the runner does.
func collectMasks(log string) []string {
	var masks []string
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
			v = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(v)
			for _, part := range append([]string{v}, strings.Split(v, "\n")...) {
				if part = strings.TrimSpace(part); part != "" {
					masks = append(masks, part)
				}
			}
		}
	}
	// Longest first, so a value is masked before any of its lines.
	sort.Slice(masks, func(i, j int) bool { return len(masks[i]) > len(masks[j]) })
	return masks
}

// runnerView renders a step's raw output roughly as the runner's log view
// does: commands are consumed, annotations shown, masks applied.
func runnerView(log string, masks []string) string {
	var b strings.Builder
	stopToken := ""
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if stopToken != "" {
			if trimmed == "::"+stopToken+"::" {
				stopToken = ""
				continue
			}
			b.WriteString(applyMasks(line, masks) + "\n")
			continue
		}
		name, data, isCmd := strings.Cut(strings.TrimPrefix(trimmed, "::"), "::")
		if !strings.HasPrefix(trimmed, "::") || !isCmd {
			b.WriteString(applyMasks(line, masks) + "\n")
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		data = applyMasks(unescape.Replace(data), masks)
		switch name {
		case "add-mask":
			b.WriteString("[masked a secret]\n")
		case "stop-commands":
			stopToken = data
		case "group":
			b.WriteString("▸ " + data + "\n")
		case "endgroup", "debug":
		case "error":
			b.WriteString("Error: " + data + "\n")
		case "warning":
			b.WriteString("Warning: " + data + "\n")
		default:
			b.WriteString(applyMasks(line, masks) + "\n")
		}
	}
	return b.String()
}

func applyMasks(s string, masks []string) string {
	for _, m := range masks {
		s = strings.ReplaceAll(s, m, "***")
	}
	return s
}

// printFileCommands lists NAME=value pairs from a file-command file in
// the runner's heredoc format.
func printFileCommands(w interface{ Write([]byte) (int, error) }, path string, masks []string) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(w, "(unreadable: %v)\n", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			continue
		}
		var value []string
		for sc.Scan() && sc.Text() != delim {
			value = append(value, sc.Text())
		}
		fmt.Fprintf(w, "%s=%s\n", name, applyMasks(strings.Join(value, "\n"), masks))
		n++
	}
	if n == 0 {
		fmt.Fprintln(w, "(nothing)")
	}
}

type fileInfo struct {
	path string
	mode os.FileMode
}

// credentialFiles lists the files the action left in the runner temp.
func credentialFiles(dir string) []fileInfo {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []fileInfo
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			out = append(out, fileInfo{path: filepath.Join(dir, e.Name()), mode: fi.Mode().Perm()})
		}
	}
	return out
}
