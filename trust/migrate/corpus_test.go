package migrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// The real-world corpus: public workflow files that use stored cloud
// keys, read from Go module zips in the module cache. Only their names,
// hashes and our expectations are committed (testdata/corpus/README.md
// says why, and how to add a file).
const (
	corpusManifest = "testdata/corpus/manifest.json"
	corpusGolden   = "testdata/corpus/detection.golden"
	// corpusRequiredEnv makes a missing module a failure instead of a
	// skip; .ci/run downloads the modules and sets it.
	corpusRequiredEnv = "OIDC_EXCHANGE_CORPUS_REQUIRED"
	// corpusMinKeyFiles is issue 12's floor: at least 40 public workflow
	// files that use stored cloud keys, controls not counted.
	corpusMinKeyFiles = 40
)

type corpus struct {
	Modules []corpusModule `json:"modules"`
}

type corpusModule struct {
	// Module is PATH@VERSION as go mod download takes it.
	Module string `json:"module"`
	// Sum is the zip's h1: hash; the go command checks it against the
	// checksum database when it downloads, so it pins the content even
	// where Tag could move.
	Sum        string       `json:"sum"`
	Repository string       `json:"repository"`
	Tag        string       `json:"tag"`
	Files      []corpusFile `json:"files"`
}

type corpusFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Layouts name the shapes the file exercises (corpusLayouts).
	Layouts []string `json:"layouts,omitempty"`
	// Note says what an expert sees in the file that the findings
	// cannot: why something is out of scope, or a control.
	Note string `json:"note,omitempty"`
	// Findings are what migrate must report: every long-lived credential
	// use in scope, whether or not the code finds it today.
	Findings []corpusFinding `json:"findings"`
	// Jobs are the expected outcome of --write for each job and cloud
	// with findings (TestCorpusRewrite).
	Jobs []corpusJob `json:"jobs,omitempty"`
}

type corpusFinding struct {
	Rule string `json:"rule"`
	Job  string `json:"job,omitempty"`
	// Where is "steps[N]", "job" or "workflow", computed from Line.
	Where   string   `json:"where"`
	Line    int      `json:"line"`
	Secrets []string `json:"secrets"`
}

type corpusJob struct {
	Job string `json:"job"`
	// Cloud is the report's cloud for the job (aws, gcp, azure), or the
	// rule of a report-only finding that belongs to no cloud's migration.
	Cloud string `json:"cloud"`
	// Rewrite is runs, refused or warned.
	Rewrite string `json:"rewrite"`
	// Why is the refusal's reason, or the warnings joined by " | ".
	Why string `json:"why,omitempty"`
}

var corpusLayouts = []string{
	"composite-action", "env-job", "env-step", "env-workflow", "if-guarded", "matrix",
	"multi-job", "non-standard-names", "pull-request-target", "reusable-call", "reusable-workflow",
	"script-interpolation", "third-party-action", "control",
}

// corpusKinds orders the detection table.
var corpusKinds = []string{RuleAWSStaticKeys, RuleGCPCredentialsKey, RuleAzureCreds, RuleVaultToken, RuleDeployToken, RuleSecretInScript}

func loadCorpus(t *testing.T) (*corpus, []byte) {
	t.Helper()
	raw, err := os.ReadFile(corpusManifest)
	if err != nil {
		t.Fatal(err)
	}
	var c corpus
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", corpusManifest, err)
	}
	return &c, raw
}

// TestCorpusManifest checks the manifest itself and needs no download:
// canonical form (which .ci/run's sed relies on to list the modules),
// well-formed names and hashes, known rules and layouts, no file twice.
func TestCorpusManifest(t *testing.T) {
	t.Parallel()
	c, raw := loadCorpus(t)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), raw) {
		if *update {
			if err := os.WriteFile(corpusManifest, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Errorf("%s is not in canonical form (two-space JSON, fields in struct order); go test -run TestCorpusManifest -update rewrites it", corpusManifest)
		}
	}
	modRE := regexp.MustCompile(`^[a-z0-9.\-]+(/[A-Za-z0-9._\-]+)+@v\d+\.\d+\.\d+(-[0-9A-Za-z.\-]+)?$`)
	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	whereRE := regexp.MustCompile(`^(steps\[\d+\]|job|workflow)$`)
	seenHash := map[string]string{}
	seenMod := map[string]bool{}
	var files, findings int
	for _, m := range c.Modules {
		if !modRE.MatchString(m.Module) {
			t.Errorf("module %q: want PATH@VERSION", m.Module)
		}
		if seenMod[m.Module] {
			t.Errorf("module %s listed twice", m.Module)
		}
		seenMod[m.Module] = true
		if _, v, _ := strings.Cut(m.Module, "@"); v != m.Tag {
			t.Errorf("module %s: tag %q is not its version", m.Module, m.Tag)
		}
		if !strings.HasPrefix(m.Sum, "h1:") || !strings.HasPrefix(m.Repository, "https://github.com/") {
			t.Errorf("module %s: sum %q or repository %q malformed", m.Module, m.Sum, m.Repository)
		}
		for _, f := range m.Files {
			files++
			id := m.Module + " " + f.Path
			if !hexRE.MatchString(f.SHA256) || !strings.HasPrefix(f.Path, ".github/") {
				t.Errorf("%s: sha256 %q or path malformed", id, f.SHA256)
			}
			if prev, ok := seenHash[f.SHA256]; ok {
				t.Errorf("%s: same content as %s; list a file once", id, prev)
			}
			seenHash[f.SHA256] = id
			for _, l := range f.Layouts {
				if !slices.Contains(corpusLayouts, l) {
					t.Errorf("%s: unknown layout %q (known: %q)", id, l, corpusLayouts)
				}
			}
			for _, e := range f.Findings {
				findings++
				if !slices.Contains(corpusKinds, e.Rule) || e.Line < 1 || !whereRE.MatchString(e.Where) || len(e.Secrets) == 0 {
					t.Errorf("%s: malformed finding %+v", id, e)
				}
			}
			for _, j := range f.Jobs {
				if !slices.Contains([]string{"runs", "refused", "warned"}, j.Rewrite) {
					t.Errorf("%s job %s: rewrite %q, want runs, refused or warned", id, j.Job, j.Rewrite)
				}
			}
		}
	}
	keyFiles, controls, perKind := corpusCounts(c)
	if keyFiles < corpusMinKeyFiles {
		t.Errorf("%d files use stored cloud keys, want at least %d", keyFiles, corpusMinKeyFiles)
	}
	for _, m := range c.Modules {
		for _, f := range m.Files {
			if slices.Contains(f.Layouts, "control") && len(f.Findings) > 0 {
				t.Errorf("%s %s: a control with expected findings", m.Module, f.Path)
			}
		}
	}
	t.Logf("corpus: %d modules, %d files (%d using stored cloud keys, %d others), %d expected findings; files per kind: %v",
		len(c.Modules), files, keyFiles, controls, findings, perKind)
}

// corpusCounts counts the files that use stored cloud keys (an expected
// finding of AWS, GCP or Azure keys, or of a cloud secret in a script),
// the others (controls, files with deploy or Vault tokens only, and files
// whose keys are counted where they are passed in), and per kind the
// files with a finding of it.
func corpusCounts(c *corpus) (keyFiles, others int, perKind map[string]int) {
	perKind = map[string]int{}
	cloud := []string{RuleAWSStaticKeys, RuleGCPCredentialsKey, RuleAzureCreds, RuleSecretInScript}
	for _, m := range c.Modules {
		for _, f := range m.Files {
			seen := map[string]bool{}
			for _, e := range f.Findings {
				if !seen[e.Rule] {
					seen[e.Rule] = true
					perKind[e.Rule]++
				}
			}
			if slices.ContainsFunc(cloud, func(k string) bool { return seen[k] }) {
				keyFiles++
			} else {
				others++
			}
		}
	}
	return keyFiles, others, perKind
}

// moduleCache returns GOMODCACHE as the go command sees it (GOMODCACHE,
// GOPATH or go env -w all count).
func moduleCache(t *testing.T) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escapeModule is the module cache's case encoding: each upper-case
// letter becomes '!' and its lower case, so that paths stay distinct on
// case-insensitive file systems.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// corpusFiles reads every file of the corpus from the module cache and
// checks its hash. A module that is not there skips the test, or fails it
// under OIDC_EXCHANGE_CORPUS_REQUIRED=1; a hash mismatch always fails.
func corpusFiles(t *testing.T, c *corpus) map[string][]byte {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; download the corpus with: go mod download -json $(sed -n 's/^      \"module\": \"\\(.*\\)\",$/\\1/p' trust/migrate/" + corpusManifest + ")"
		if os.Getenv(corpusRequiredEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (" + corpusRequiredEnv + "=1 makes this a failure)")
	}
	cache, err := moduleCache(t)
	if err != nil {
		missing("%v", err)
	}
	out := map[string][]byte{}
	for _, m := range c.Modules {
		dir := filepath.Join(cache, filepath.FromSlash(escapeModule(m.Module)))
		if _, err := os.Stat(dir); err != nil {
			missing("module %s is not in the module cache %s", m.Module, cache)
		}
		for _, f := range m.Files {
			src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatalf("%s %s: %v", m.Module, f.Path, err)
			}
			sum := sha256.Sum256(src)
			if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
				t.Fatalf("%s %s: sha256 %s, manifest says %s", m.Module, f.Path, got, f.SHA256)
			}
			out[m.Module+" "+f.Path] = src
		}
	}
	return out
}

// where names the part of a workflow that holds line: a step of job, the
// job itself (env, with: of a reusable call), or the workflow (its env).
// It reads the file with yaml.v3, independently of the code under test.
func where(src []byte, job string, line int) string {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return "workflow"
	}
	jobs := yamlGet(doc.Content[0], "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return "workflow"
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		if jobs.Content[i].Value != job {
			continue
		}
		start := jobs.Content[i].Line
		end := int(^uint(0) >> 1)
		if i+2 < len(jobs.Content) {
			end = jobs.Content[i+2].Line
		}
		if line < start || line >= end {
			return "workflow"
		}
		body := jobs.Content[i+1]
		if body.Kind != yaml.MappingNode {
			return "job"
		}
		for k := 0; k+1 < len(body.Content); k += 2 {
			steps := body.Content[k+1]
			if body.Content[k].Value != "steps" || steps.Kind != yaml.SequenceNode {
				continue
			}
			// The steps end where the job's next key starts.
			stepsEnd := end
			if k+2 < len(body.Content) {
				stepsEnd = body.Content[k+2].Line
			}
			for n := len(steps.Content) - 1; n >= 0; n-- {
				if line >= steps.Content[n].Line && line < stepsEnd {
					return fmt.Sprintf("steps[%d]", n)
				}
			}
		}
		return "job"
	}
	return "workflow"
}

func yamlGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// TestCorpusDetection scans each corpus file alone and compares the
// findings with the manifest's. What differs today (missed or unexpected
// findings, per kind recall and precision) is the golden file, so a
// change in detection shows as a diff there: rerun with -update and
// review it.
func TestCorpusDetection(t *testing.T) {
	t.Parallel()
	c, _ := loadCorpus(t)
	srcs := corpusFiles(t, c)

	var (
		mu      sync.Mutex
		results []corpusResult
	)
	// The table is made once every file's parallel subtest has finished,
	// which is when the parent's cleanups run.
	t.Cleanup(func() {
		if !t.Failed() {
			detectionTable(t, c, results)
		}
	})
	for _, m := range c.Modules {
		for _, f := range m.Files {
			id := m.Module + " " + f.Path
			t.Run(strings.ReplaceAll(id, "/", "_"), func(t *testing.T) {
				t.Parallel()
				src := srcs[id]
				dir := t.TempDir()
				dst := filepath.Join(dir, filepath.FromSlash(f.Path))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, src, 0o644); err != nil {
					t.Fatal(err)
				}
				repo := strings.TrimPrefix(m.Repository, "https://github.com/")
				r, err := Scan(dir, Options{Repository: repo})
				if errors.Is(err, ErrNoWorkflows) && !strings.HasPrefix(f.Path, ".github/workflows/") {
					// Scan reads workflows only: a composite action's keys
					// are counted in the workflow that passes them.
					r, err = &Report{}, nil
				}
				if err != nil {
					t.Fatalf("Scan: %v", err)
				}
				var got []corpusFinding
				for _, fd := range r.Findings {
					if !slices.Contains(corpusKinds, fd.Rule) {
						// Refusals and unreadable files are not credentials;
						// the rewrite tests cover them.
						continue
					}
					got = append(got, corpusFinding{Rule: fd.Rule, Job: fd.Job, Where: where(src, fd.Job, fd.Line), Line: fd.Line, Secrets: fd.Secrets})
				}
				res := corpusResult{id: id, want: f.Findings, got: got}
				key := func(e corpusFinding) string { return fmt.Sprintf("%s|%s|%d", e.Rule, e.Job, e.Line) }
				gotBy := map[string]corpusFinding{}
				for _, g := range got {
					gotBy[key(g)] = g
				}
				wantBy := map[string]bool{}
				for _, w := range f.Findings {
					wantBy[key(w)] = true
					g, ok := gotBy[key(w)]
					switch {
					case !ok:
						res.missed = append(res.missed, w)
					case !slices.Equal(g.Secrets, w.Secrets):
						res.secretsMismatch = append(res.secretsMismatch, fmt.Sprintf("%s want %q got %q", key(w), w.Secrets, g.Secrets))
					}
					if ok && g.Where != w.Where {
						t.Errorf("%s: manifest says where %q, the file says %q", key(w), w.Where, g.Where)
					}
				}
				for _, g := range got {
					if !wantBy[key(g)] {
						res.unexp = append(res.unexp, g)
					}
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			})
		}
	}
}

// corpusResult is one file's comparison.
type corpusResult struct {
	id              string
	want, got       []corpusFinding
	missed, unexp   []corpusFinding
	secretsMismatch []string
}

// detectionTable writes or checks detection.golden.
func detectionTable(t *testing.T, c *corpus, results []corpusResult) {
	t.Helper()
	sort.Slice(results, func(i, k int) bool { return results[i].id < results[k].id })

	type counts struct{ want, got, found int }
	per := map[string]*counts{}
	for _, k := range corpusKinds {
		per[k] = &counts{}
	}
	var gaps strings.Builder
	line := func(kind, id string, e corpusFinding) {
		fmt.Fprintf(&gaps, "%-10s %s job=%s %s line=%d %s %s\n", kind, id, e.Job, e.Where, e.Line, e.Rule, strings.Join(e.Secrets, ","))
	}
	for _, r := range results {
		for _, w := range r.want {
			per[w.Rule].want++
		}
		for _, g := range r.got {
			per[g.Rule].got++
		}
		for _, w := range r.want {
			if !slices.ContainsFunc(r.missed, func(m corpusFinding) bool { return m.Rule == w.Rule && m.Job == w.Job && m.Line == w.Line }) {
				per[w.Rule].found++
			}
		}
		for _, m := range r.missed {
			line("missed", r.id, m)
		}
		for _, u := range r.unexp {
			line("unexpected", r.id, u)
		}
		for _, s := range r.secretsMismatch {
			fmt.Fprintf(&gaps, "%-10s %s %s\n", "secrets", r.id, s)
		}
	}
	var b strings.Builder
	b.WriteString("# Detection over the corpus (manifest.json) by the code under test.\n")
	b.WriteString("# recall = found/expected, precision = found/reported; regenerate with\n")
	b.WriteString("# go test ./trust/migrate -run TestCorpusDetection -update and review the diff.\n\n")
	keyFiles, others, perKind := corpusCounts(c)
	b.WriteString("# A file uses stored cloud keys with an expected finding of AWS, GCP or Azure\n# keys, or of a cloud secret in a script; FILES counts the files per kind.\n\n")
	fmt.Fprintf(&b, "files: %d; %d use stored cloud keys, %d are controls or have none of their own\n\n", keyFiles+others, keyFiles, others)
	fmt.Fprintf(&b, "%-30s %5s %8s %8s %8s %7s %9s\n", "KIND", "FILES", "EXPECTED", "REPORTED", "FOUND", "RECALL", "PRECISION")
	ratio := func(a, b int) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	var tw, tg, tf int
	for _, k := range corpusKinds {
		n := per[k]
		tw, tg, tf = tw+n.want, tg+n.got, tf+n.found
		fmt.Fprintf(&b, "%-30s %5d %8d %8d %8d %7s %9s\n", k, perKind[k], n.want, n.got, n.found, ratio(n.found, n.want), ratio(n.found, n.got))
	}
	fmt.Fprintf(&b, "%-30s %5d %8d %8d %8d %7s %9s\n", "all", keyFiles, tw, tg, tf, ratio(tf, tw), ratio(tf, tg))
	b.WriteString("\n# Gaps: expected findings not reported, reports not expected, and\n# findings whose secret names differ.\n")
	b.WriteString(gaps.String())
	t.Log("\n" + b.String())

	if *update {
		if err := os.WriteFile(corpusGolden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(corpusGolden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("detection over the corpus changed (-%s +now); if it is an improvement, rerun with -update and commit the file:\n%s", corpusGolden, diff)
	}
}
