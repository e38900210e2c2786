package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// corpusRewriteGolden, under testdata, holds the counts of what --write
// does over the corpus, so that a change in them is a reviewed diff.
const corpusRewriteGolden = "corpus/rewrite.golden"

// corpusRewrite is what --write did to one corpus file.
type corpusRewrite struct {
	id       string
	jobs     []corpusJob
	src, out []byte
}

// TestCorpusRewrite runs the --write path (Scan, then Report.Apply, as
// the CLI does) over every corpus file, as it is, with CRLF line endings
// and with mixed ones, and checks that every job it rewrites would obtain
// credentials, that nothing else changed, that actionlint finds nothing
// new, and that each job's outcome is the manifest's. It skips and fails
// like TestCorpusDetection, since it reads the same modules.
func TestCorpusRewrite(t *testing.T) {
	t.Parallel()
	c, _ := loadCorpus(t)
	srcs := corpusFiles(t, c)
	lintDir := t.TempDir()
	cache, err := moduleCache(t)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		results []corpusRewrite
	)
	// Once every file's parallel subtest has finished: actionlint runs
	// once over all files, since one process per file costs more than
	// the linting, and the counts are compared with the golden file.
	t.Cleanup(func() {
		sort.Slice(results, func(i, k int) bool { return results[i].id < results[k].id })
		lintCorpus(t, lintDir, results)
		if !t.Failed() {
			rewriteTable(t, results)
		}
	})
	for _, m := range c.Modules {
		repo := strings.TrimPrefix(m.Repository, "https://github.com/")
		// The module's workflows that name a file are staged beside it,
		// as in its repository, so that the callers of a reusable
		// workflow are found.
		others := moduleWorkflows(t, filepath.Join(cache, filepath.FromSlash(escapeModule(m.Module))))
		for _, f := range m.Files {
			id := m.Module + " " + f.Path
			t.Run(strings.ReplaceAll(id, "/", "_"), func(t *testing.T) {
				t.Parallel()
				src := srcs[id]
				rewriteCorpusFile := func(t *testing.T, path, repo string, src []byte) ([]corpusJob, []byte) {
					t.Helper()
					return rewriteInRepo(t, path, repo, src, others)
				}
				// The corpus has no CRLF file but real repositories do:
				// the same file with CRLF must get the same rewrite, with
				// CRLF on the new lines too.
				crlf := bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
				jobs, out := rewriteCorpusFile(t, f.Path, repo, src)
				jobsCRLF, outCRLF := rewriteCorpusFile(t, f.Path, repo, crlf)
				if diff := cmp.Diff(jobs, jobsCRLF); diff != "" {
					t.Errorf("the CRLF file's outcomes differ (-LF +CRLF):\n%s", diff)
				}
				if want := bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n")); !bytes.Equal(outCRLF, want) {
					t.Errorf("the CRLF file's rewrite is not the LF file's with CRLF:\n%s", unifiedDiff("want", "got", string(want), string(outCRLF)))
				}
				// Nor does the corpus have a file of mixed line endings,
				// which editors and merges make: each line keeps its own,
				// and the new lines take those of the lines around them.
				mixed := mixedEndings(src)
				jobsMixed, outMixed := rewriteCorpusFile(t, f.Path, repo, mixed)
				if diff := cmp.Diff(jobs, jobsMixed); diff != "" {
					t.Errorf("the mixed file's outcomes differ (-LF +mixed):\n%s", diff)
				}
				if got := bytes.ReplaceAll(outMixed, []byte("\r\n"), []byte("\n")); !bytes.Equal(got, out) {
					t.Errorf("the mixed file's rewrite is not the LF file's with its line endings:\n%s", unifiedDiff("want", "got", string(out), string(got)))
				}
				checkEndings(t, mixed, outMixed)
				if diff := cmp.Diff(f.Jobs, jobs); diff != "" {
					t.Errorf("--write outcomes differ from the manifest's jobs (-manifest +now):\n%s", diff)
				}
				mu.Lock()
				results = append(results, corpusRewrite{id: id, jobs: jobs, src: src, out: out})
				mu.Unlock()
			})
		}
	}
}

// moduleWorkflows reads every workflow file of the module in dir.
func moduleWorkflows(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{"*.yml", "*.yaml"} {
		names, err := filepath.Glob(filepath.Join(dir, ".github", "workflows", pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[".github/workflows/"+filepath.Base(n)] = b
		}
	}
	return out
}

// rewriteInRepo stages src at path in a temporary repository with those
// of the module's other workflows that name it, runs Scan and Apply on it, checks the result
// for path and returns the outcome of each of its jobs and the file as
// --write left it.
func rewriteInRepo(t *testing.T, path, repo string, src []byte, others map[string][]byte) ([]corpusJob, []byte) {
	t.Helper()
	if !strings.HasPrefix(path, ".github/workflows/") {
		// A composite action is not a workflow: migrate neither reads
		// nor rewrites it.
		return nil, src
	}
	dir := t.TempDir()
	// Only the workflows that name the file can call it; scanning the
	// others for every file and variant would cost more than the rest
	// of the test.
	staged := maps.Clone(others)
	maps.DeleteFunc(staged, func(name string, b []byte) bool {
		return name == path || !bytes.Contains(b, []byte(path))
	})
	staged[path] = src
	for name, b := range staged {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(dir, filepath.FromSlash(path))
	opts := Options{Repository: repo}
	r, err := Scan(dir, opts)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	left, err := r.Apply()
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	out, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}

	var rewritten []*Job
	for _, j := range r.Jobs {
		if !j.Rewritable || j.File != path {
			continue
		}
		rewritten = append(rewritten, j)
		// Apply reports a job the scan called rewritable but Write left
		// alone as refused: that must not happen.
		for _, l := range left.Jobs {
			if l.File == j.File && l.Job == j.Job && l.Cloud == j.Cloud {
				t.Errorf("job %s (%s): scan says rewritable, after --write: %s", j.Job, j.Cloud, l.Reason)
			}
		}
	}
	switch {
	case len(rewritten) > 0 && bytes.Equal(out, src):
		t.Errorf("%d jobs rewritable, the file is unchanged", len(rewritten))
	case len(rewritten) == 0 && !bytes.Equal(out, src):
		t.Errorf("no job rewritable, the file changed")
	case len(rewritten) > 0:
		// What Write wrote is what analyze made, edit by edit: the
		// property holds for those edits.
		a := analyze(path, src, opts)
		if a.result != string(out) {
			t.Errorf("Write's output is not analyze's")
		}
		checkPreserved(t, src, out, a.applied)
		for _, p := range semanticCheck(src, out, rewritten) {
			t.Errorf("semantic check: %s", p)
		}
		for _, p := range callerCheck(staged, path, repo, rewritten) {
			t.Errorf("caller check: %s", p)
		}
	}
	return jobOutcomes(r, path), out
}

// jobOutcomes is the outcome of each job of file in the order of the
// report: per job and cloud from its Jobs, and per job for the credential
// findings of no cloud's migration (deploy tokens, Vault), which are
// report-only.
func jobOutcomes(r *Report, file string) []corpusJob {
	var out []corpusJob
	seen := map[string]bool{}
	for _, j := range r.Jobs {
		if j.File != file {
			continue
		}
		o := corpusJob{Job: j.Job, Cloud: string(j.Cloud), Rewrite: "runs"}
		switch {
		case !j.Rewritable:
			o.Rewrite, o.Why = "refused", j.Reason
		case len(j.Warnings) > 0:
			o.Rewrite, o.Why = "warned", strings.Join(j.Warnings, " | ")
		}
		out = append(out, o)
		seen[j.Job] = true
	}
	for _, f := range r.Findings {
		if f.File != file || !slices.Contains(corpusKinds, f.Rule) || seen[f.Job] {
			continue
		}
		seen[f.Job] = true
		out = append(out, corpusJob{Job: f.Job, Cloud: f.Rule, Rewrite: "refused", Why: "report-only: " + f.Rule})
	}
	return out
}

// The semantic check reads the workflows with yaml.v3, independently of
// the parser the rewrite uses, and knows the key names on its own.
var (
	semAWSEnv    = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	semAWSInputs = []string{"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
	semMatrixRE  = regexp.MustCompile(`\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}`)
)

// semanticCheck returns why a rewritten job would not obtain credentials,
// and which job changed although none of its clouds was rewritten.
func semanticCheck(src, out []byte, rewritten []*Job) []string {
	var before, after map[string]any
	if err := yaml.Unmarshal(src, &before); err != nil {
		return []string{"the original does not decode: " + err.Error()}
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		return []string{"the rewrite does not decode: " + err.Error()}
	}
	var probs []string
	bj, _ := before["jobs"].(map[string]any)
	aj, _ := after["jobs"].(map[string]any)
	isRewritten := func(id string) bool {
		return slices.ContainsFunc(rewritten, func(j *Job) bool { return j.Job == id })
	}
	for id, v := range bj {
		if !isRewritten(id) && !reflect.DeepEqual(v, aj[id]) {
			probs = append(probs, fmt.Sprintf("job %s changed although the report does not rewrite it", id))
		}
	}
	if len(bj) != len(aj) {
		probs = append(probs, "the number of jobs changed")
	}
	for k, v := range before {
		if k == "jobs" || reflect.DeepEqual(v, after[k]) {
			continue
		}
		// The workflow's env may lose its keys only when every job,
		// which they all reach, is rewritten.
		if k != "env" || slices.ContainsFunc(mapKeys(bj), func(id string) bool { return !isRewritten(id) }) {
			probs = append(probs, fmt.Sprintf("top-level %s changed", k))
		}
	}
	for _, j := range rewritten {
		for _, p := range checkRewrittenJob(before, after, j) {
			probs = append(probs, fmt.Sprintf("job %s (%s): %s", j.Job, j.Cloud, p))
		}
	}
	return probs
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkRewrittenJob checks one rewritten job of the decoded workflows.
func checkRewrittenJob(before, after map[string]any, j *Job) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	job, _ := mapOf(after["jobs"])[j.Job].(map[string]any)
	orig, _ := mapOf(before["jobs"])[j.Job].(map[string]any)
	if job == nil || orig == nil {
		return []string{"not in both workflows"}
	}
	steps, _ := job["steps"].([]any)
	origSteps, _ := orig["steps"].([]any)

	// The step: ours, with what the cloud needs.
	var ours []int
	for i, s := range steps {
		st := mapOf(s)
		if u := str(st["uses"]); u != Action && u != NativeAction {
			continue
		}
		if p := str(mapOf(st["with"])["provider"]); p == string(j.Cloud) || p == "" && j.Cloud == plan.AWS {
			ours = append(ours, i)
		}
	}
	if len(ours) == 0 {
		return []string{"no oidc-exchange step for " + string(j.Cloud)}
	}
	for _, i := range ours {
		st := mapOf(steps[i])
		with := mapOf(st["with"])
		switch j.Cloud {
		case plan.AWS:
			if str(with["role-to-assume"]) == "" {
				bad("step %d has no role-to-assume", i)
			}
			switch region := str(with["aws-region"]); {
			case region == "":
				bad("step %d has no aws-region", i)
			case region == RegionPlaceholder && !slices.ContainsFunc(j.Warnings, func(w string) bool { return strings.Contains(w, RegionPlaceholder) }):
				bad("step %d has the placeholder region and the report does not warn", i)
			}
		case plan.GCP:
			if str(with["workload-identity-provider"]) == "" || str(with["service-account"]) == "" {
				bad("step %d lacks workload-identity-provider or service-account", i)
			}
		case plan.Azure:
			bad("Azure is report-only, yet rewritten")
		}
		// The runner must run the action: the container action runs on
		// Linux only, so every label the job can get must be known and
		// be neither macOS nor Windows.
		if str(st["uses"]) == Action {
			labels, known := runnerLabels(job)
			if !known {
				bad("the container action on runs-on %v, which may not be Linux", job["runs-on"])
			}
			for _, l := range labels {
				if ll := strings.ToLower(l); strings.Contains(ll, "macos") || strings.Contains(ll, "windows") {
					bad("the container action on runner %s", l)
				}
			}
		}
	}

	// id-token: write in effect. A job's permissions replace the
	// workflow's; without either the repository's default applies, whose
	// restricted form has no id-token, so it cannot be relied on.
	perm, ok := job["permissions"]
	if !ok {
		perm, ok = after["permissions"]
	}
	switch p := perm.(type) {
	case string:
		if p != "write-all" {
			bad("permissions %s: no id-token: write", p)
		}
	case map[string]any:
		if p["id-token"] != "write" {
			bad("permissions %v: no id-token: write", p)
		}
	default:
		if !ok {
			bad("no permissions anywhere: the default has no id-token: write")
		} else {
			bad("permissions %v: no id-token: write", p)
		}
	}

	// The conditions: a step put in place of configure-aws-credentials
	// or google-github-actions/auth keeps its if: and continue-on-error;
	// a new step carries those of the step it precedes when the keys
	// were in that step's env. Keys in job or workflow env reached every
	// step, so the new step runs whenever the job does.
	wide := hasAWSKeys(mapOf(orig["env"])) || hasAWSKeys(mapOf(before["env"]))
	for k, i := 0, 0; k < len(steps); k++ {
		st := mapOf(steps[k])
		if !slices.Contains(ours, k) {
			i++
			continue
		}
		if i >= len(origSteps) {
			bad("step %d is ours and last: it precedes no step", k)
			continue
		}
		o := mapOf(origSteps[i])
		act := strings.ToLower(strings.SplitN(str(o["uses"]), "@", 2)[0])
		inPlace := act == "aws-actions/configure-aws-credentials" || act == gcpAuthAction
		if inPlace {
			i++
		}
		if inPlace || !wide {
			for _, key := range []string{"if", "continue-on-error"} {
				if !reflect.DeepEqual(st[key], o[key]) {
					bad("step %d has %s %v, the step it replaces or precedes %v", k, key, st[key], o[key])
				}
			}
		} else if _, has := st["if"]; has {
			bad("step %d has if %v although the keys reached every step", k, st["if"])
		}
	}

	// No key is left where the job can read it.
	if j.Cloud == plan.AWS {
		if hasAWSKeys(mapOf(after["env"])) || hasAWSKeys(mapOf(job["env"])) {
			bad("AWS keys left in job or workflow env")
		}
	}
	for n, s := range steps {
		st := mapOf(s)
		act := strings.ToLower(strings.SplitN(str(st["uses"]), "@", 2)[0])
		with := mapOf(st["with"])
		switch j.Cloud {
		case plan.AWS:
			if hasAWSKeys(mapOf(st["env"])) {
				bad("AWS keys left in step %d's env", n)
			}
			for _, k := range semAWSInputs {
				if strings.Contains(str(with[k]), "secrets.") {
					bad("step %d still takes %s", n, k)
				}
			}
		case plan.GCP:
			if act == gcpAuthAction && str(with["credentials_json"]) != "" {
				bad("step %d still takes credentials_json", n)
			}
		case plan.Azure:
			// Checked above: never rewritten.
		}
	}
	return probs
}

func hasAWSKeys(env map[string]any) bool {
	for _, k := range semAWSEnv {
		if strings.Contains(str(env[k]), "secrets.") {
			return true
		}
	}
	return false
}

// callerCheck returns what is wrong with the warnings of the rewritten
// jobs of a reusable workflow: each job of the staged workflows that
// calls it (./.github/workflows/FILE or REPO/.github/workflows/FILE@REF)
// and does not grant id-token: write (its job's permissions, else its
// workflow's; write-all grants it, none does not) must be named, and
// without callers the warnings must say there are none.
func callerCheck(staged map[string][]byte, path, repo string, rewritten []*Job) []string {
	var wf map[string]any
	if yaml.Unmarshal(staged[path], &wf) != nil || !reusableOn(wf["on"]) {
		return nil
	}
	var want []string
	callers := 0
	for name, b := range staged {
		var caller map[string]any
		if yaml.Unmarshal(b, &caller) != nil {
			continue
		}
		for id, v := range mapOf(caller["jobs"]) {
			job := mapOf(v)
			uses := str(job["uses"])
			local := "./" + path
			if uses != local && !strings.HasPrefix(strings.ToLower(uses), strings.ToLower(repo)+"/"+path+"@") {
				continue
			}
			callers++
			perm, ok := job["permissions"]
			if !ok {
				perm = caller["permissions"]
			}
			if perm == "write-all" || mapOf(perm)["id-token"] == "write" {
				continue
			}
			want = append(want, fmt.Sprintf("job %s of %s", id, name))
		}
	}
	if callers == 0 {
		want = append(want, "no scanned workflow calls it")
	}
	var probs []string
	for _, j := range rewritten {
		all := strings.Join(j.Warnings, "\n")
		for _, w := range want {
			if !strings.Contains(all, w) {
				probs = append(probs, fmt.Sprintf("job %s (%s) of a reusable workflow: no warning names %q", j.Job, j.Cloud, w))
			}
		}
	}
	return probs
}

// reusableOn reports whether on: has workflow_call, in any of its forms.
func reusableOn(on any) bool {
	switch v := on.(type) {
	case string:
		return v == "workflow_call"
	case []any:
		return slices.Contains(v, any("workflow_call"))
	case map[string]any:
		_, ok := v["workflow_call"]
		return ok
	}
	return false
}

// runnerLabels returns the labels the job's runs-on can take, through a
// matrix, and whether all of them are known.
func runnerLabels(job map[string]any) ([]string, bool) {
	var raw []any
	switch ro := job["runs-on"].(type) {
	case string:
		raw = []any{ro}
	case []any:
		raw = ro
	case map[string]any:
		// A runner group alone says nothing about the OS.
		switch l := ro["labels"].(type) {
		case string:
			raw = []any{l}
		case []any:
			raw = l
		default:
			return nil, false
		}
	default:
		return nil, false
	}
	matrix, _ := mapOf(job["strategy"])["matrix"].(map[string]any)
	var out []string
	known := true
	for _, r := range raw {
		l := str(r)
		if !strings.Contains(l, "${{") {
			out = append(out, l)
			continue
		}
		// One matrix value in the label, alone or with text around it
		// (windows-${{ matrix.version }}): each value makes a label.
		m := semMatrixRE.FindStringSubmatch(l)
		if m == nil || matrix == nil || strings.Contains(strings.Replace(l, m[0], "", 1), "${{") {
			known = false
			continue
		}
		vals := matrixOf(matrix, m[1])
		if len(vals) == 0 {
			known = false
		}
		for _, v := range vals {
			if _, nested := v.(map[string]any); !nested && !strings.Contains(str(v), "${{") {
				out = append(out, strings.Replace(l, m[0], str(v), 1))
			} else {
				known = false
			}
		}
	}
	return out, known
}

// matrixOf returns the values matrix gives name: its list and its include
// entries'.
func matrixOf(matrix map[string]any, name string) []any {
	var out []any
	switch v := matrix[name].(type) {
	case []any:
		out = append(out, v...)
	case nil:
	default:
		out = append(out, v)
	}
	inc, _ := matrix["include"].([]any)
	for _, e := range inc {
		if v, ok := mapOf(e)[name]; ok {
			out = append(out, v)
		}
	}
	return out
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(s)
	}
}

// actionlintError is one entry of actionlint's JSON output.
type actionlintError struct {
	Message  string `json:"message"`
	Filepath string `json:"filepath"`
	Kind     string `json:"kind"`
}

// positionRE matches the positions some actionlint messages quote, which
// move with the lines the rewrite adds.
var positionRE = regexp.MustCompile(`line:\d+,col:\d+`)

// lintCorpus runs actionlint once over every rewritten file and its
// original, LF and CRLF, and fails on a finding the rewrite added: the
// upstream files have findings of their own.
func lintCorpus(t *testing.T, dir string, results []corpusRewrite) {
	t.Helper()
	var args []string
	for n, r := range results {
		if bytes.Equal(r.src, r.out) {
			continue
		}
		crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
		for name, b := range map[string][]byte{"orig.yml": r.src, "new.yml": r.out, "orig-crlf.yml": crlf(r.src), "new-crlf.yml": crlf(r.out)} {
			p := filepath.Join(dir, fmt.Sprint(n), ".github", "workflows", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, p)
		}
	}
	if len(args) == 0 {
		return
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// shellcheck and pyflakes are off: whether they are installed would
	// change the findings from machine to machine.
	cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "-modfile=" + filepath.Join(root, "tools", "go.mod"), "actionlint",
		"-no-color", "-shellcheck=", "-pyflakes=", "-config-file", filepath.Join(root, ".github", "actionlint.yaml"), "-format", "{{json .}}"}, args...)...)
	// The tool is built from the module cache; never reach the network.
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	// actionlint exits 1 when it found something, which the originals do.
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
		msg := fmt.Sprintf("actionlint: %v: %s", err, stderr.String())
		if os.Getenv(corpusRequiredEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (" + corpusRequiredEnv + "=1 makes this a failure)")
	}
	var errs []actionlintError
	if err := json.Unmarshal(stdout.Bytes(), &errs); err != nil {
		t.Fatalf("actionlint output: %v\n%s", err, stdout.String())
	}
	found := map[string][]string{}
	for _, e := range errs {
		rel, err := filepath.Rel(dir, e.Filepath)
		if err != nil {
			rel = e.Filepath
		}
		found[rel] = append(found[rel], e.Kind+": "+positionRE.ReplaceAllString(e.Message, "line:N,col:N"))
	}
	for n, r := range results {
		if bytes.Equal(r.src, r.out) {
			continue
		}
		for _, v := range []string{"", "-crlf"} {
			at := func(name string) string { return filepath.Join(fmt.Sprint(n), ".github", "workflows", name+v+".yml") }
			for _, msg := range added(found[at("orig")], found[at("new")]) {
				t.Errorf("%s%s: actionlint finds in the rewrite only: %s", r.id, v, msg)
			}
		}
	}
	t.Logf("actionlint: %d files, %d findings", len(args), len(errs))
}

// added returns the messages of after that before does not have, counted
// with multiplicity.
func added(before, after []string) []string {
	left := map[string]int{}
	for _, m := range before {
		left[m]++
	}
	var out []string
	for _, m := range after {
		if left[m] > 0 {
			left[m]--
			continue
		}
		out = append(out, m)
	}
	return out
}

// repoRoot is the directory above the test's with tools/go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools/go.mod above the working directory")
		}
		dir = parent
	}
}

// rewriteTable writes or checks rewrite.golden: jobs rewritten (runs or
// warned), warned and refused, overall and per cloud or report-only rule.
func rewriteTable(t *testing.T, results []corpusRewrite) {
	t.Helper()
	type counts struct{ jobs, rewritten, runs, warned, refused int }
	per := map[string]*counts{}
	var kinds []string
	var all counts
	files := 0
	for _, r := range results {
		if !bytes.Equal(r.src, r.out) {
			files++
		}
		for _, j := range r.jobs {
			n := per[j.Cloud]
			if n == nil {
				n = &counts{}
				per[j.Cloud] = n
				kinds = append(kinds, j.Cloud)
			}
			for _, c := range []*counts{n, &all} {
				c.jobs++
				switch j.Rewrite {
				case "runs":
					c.runs++
					c.rewritten++
				case "warned":
					c.warned++
					c.rewritten++
				case "refused":
					c.refused++
				}
			}
		}
	}
	slices.Sort(kinds)
	var b strings.Builder
	b.WriteString("# What --write does over the corpus (manifest.json), per job and cloud;\n")
	b.WriteString("# rewritten = runs + warned. Regenerate with\n")
	b.WriteString("# go test ./trust/migrate -run TestCorpusRewrite -update and review the diff.\n\n")
	fmt.Fprintf(&b, "%-30s %5s %9s %5s %6s %7s\n", "KIND", "JOBS", "REWRITTEN", "RUNS", "WARNED", "REFUSED")
	row := func(k string, n *counts) {
		fmt.Fprintf(&b, "%-30s %5d %9d %5d %6d %7d\n", k, n.jobs, n.rewritten, n.runs, n.warned, n.refused)
	}
	for _, k := range kinds {
		row(k, per[k])
	}
	row("all", &all)
	fmt.Fprintf(&b, "\nfiles rewritten: %d of %d\n", files, len(results))
	t.Log("\n" + b.String())
	exchangetest.Golden(t, corpusRewriteGolden, b.String(), *update)
}

// TestSemanticCheck shows that the check over the corpus can fail: each
// case breaks one thing a rewritten job needs.
func TestSemanticCheck(t *testing.T) {
	t.Parallel()
	const src = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - if: github.ref == 'refs/heads/main'\n        run: ./deploy.sh\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
	const good = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n      - uses: " + Action + "\n        if: github.ref == 'refs/heads/main'\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/r\n          aws-region: eu-west-1\n      - if: github.ref == 'refs/heads/main'\n        run: ./deploy.sh\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"good", "", "", ""},
		{"no id-token", "      id-token: write\n", "", "no id-token: write"},
		{"no permissions", "    permissions:\n      contents: read\n      id-token: write\n", "", "no permissions anywhere"},
		{"macOS", "runs-on: ubuntu-latest\n    permissions", "runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-latest]\n    permissions", "container action on runner macos-latest"},
		{"unknown runner", "runs-on: ubuntu-latest\n    permissions", "runs-on: ${{ inputs.runner }}\n    permissions", "may not be Linux"},
		{"Windows through a matrix", "runs-on: ubuntu-latest\n    permissions", "runs-on: windows-${{matrix.version}}\n    strategy:\n      matrix:\n        version: [2019, 2022]\n    permissions", "container action on runner windows-2019"},
		{"condition lost", "        if: github.ref == 'refs/heads/main'\n        with:", "        with:", "has if <nil>"},
		{"no region", "          aws-region: eu-west-1\n", "", "no aws-region"},
		{"placeholder without warning", "eu-west-1", RegionPlaceholder, "placeholder region"},
		{"keys left", "        run: ./deploy.sh\n", "        run: ./deploy.sh\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n", "AWS keys left in step 1"},
		{"other job changed", "      - run: make\n", "      - run: make all\n", "job b changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := strings.Replace(good, tc.old, tc.new, 1)
			probs := semanticCheck([]byte(src), []byte(out), []*Job{{Job: "a", Cloud: plan.AWS}})
			got := strings.Join(probs, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant one with %q", got, tc.want)
			}
		})
	}
}
