package migrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Write rewrites, in place, every workflow of r whose AWS and GCP jobs can
// all be migrated safely (see [Job.Rewritable]), and returns a unified
// diff of the changes ("" when nothing changed).
//
// The rewrite goes through the YAML AST: the configure-aws-credentials
// step's uses becomes oidc-exchange/oidc-exchange@v1 and its static-key
// inputs become role-to-assume (placeholder unless [Options.RoleARN]);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN env
// entries from secrets are removed; a job with keys only in env gets an
// oidc-exchange step first. A google-github-actions/auth step with
// credentials_json gets uses oidc-exchange/oidc-exchange@v1, provider:
// gcp, workload-identity-provider and service-account (placeholders
// unless [Options] or the step give them) in place of credentials_json,
// and its inputs and the job's references to its outputs are renamed to
// ours in place, byte for byte. The job gets id-token: write; a job
// without a permissions block gets one with contents: read as well, which
// restricts its GITHUB_TOKEN to those scopes (jobs that push, comment or
// publish need more added by hand). Lines the rewrite does not touch are
// kept byte for byte, comments and line endings included; a comment after
// a removed value goes with it, comment lines above a removed entry stay.
// A line written ends like the line it replaces or the line before it, so
// a file of CRLF or mixed line endings keeps them; a file with a CR that
// ends no line as CRLF is left untouched.
func (r *Report) Write(dir string) (string, error) {
	var files []string
	for _, j := range r.Jobs {
		if j.Rewritable && !slices.Contains(files, j.File) {
			files = append(files, j.File)
		}
	}
	slices.Sort(files)
	var diff strings.Builder
	for _, name := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		src, err := os.ReadFile(path)
		if err != nil {
			return diff.String(), err
		}
		out, ok := rewrite(name, src, r.opts)
		if !ok || out == string(src) {
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return diff.String(), err
		}
		if err := os.WriteFile(path, []byte(out), info.Mode().Perm()); err != nil {
			return diff.String(), err
		}
		diff.WriteString(unifiedDiff("a/"+name, "b/"+name, string(src), out))
	}
	return diff.String(), nil
}

// rewrite returns the migrated text of one workflow, or false when it has
// nothing to migrate or cannot be migrated whole.
func rewrite(name string, src []byte, o Options) (string, bool) {
	a := analyze(name, src, o)
	if a.file == nil || !a.safe {
		return "", false
	}
	return a.result, true
}

// splice makes the rewrite of a safe file as text edits at the parser's
// positions, so every byte outside them stays as it was, and checks the
// result. When it does not check out, no job of the file is rewritable,
// and each says why.
func (a *analysis) splice(name string, o Options) {
	defer func() {
		// A panic while editing (the AST library is not hardened against
		// every input) refuses the file, never crashes the scan.
		if r := recover(); r != nil {
			a.refuse(fmt.Errorf("internal error: %v", r))
		}
	}()
	edits, err := a.allEdits()
	var out []byte
	if err == nil {
		out, err = applyEdits(a.src, edits)
	}
	if err == nil {
		err = a.checkOutput(name, out, o)
	}
	if err != nil {
		a.refuse(err)
		return
	}
	a.result, a.applied = string(out), edits
}

// refuse marks every migrated job of the file not rewritable, for err.
func (a *analysis) refuse(err error) {
	for _, c := range slices.Concat(a.aws, a.gcp) {
		c.j.Rewritable = false
		c.j.Reason = fmt.Sprintf("the rewrite does not check out (%v); the file is left untouched", err)
	}
	a.safe = false
}

// allEdits collects the edits of every migrated job, each job's
// permissions once, and the removal of the workflow's keys.
func (a *analysis) allEdits() ([]srcEdit, error) {
	var out []srcEdit
	done := map[*jobPlan]bool{}
	for _, c := range slices.Concat(a.aws, a.gcp) {
		// A job with AWS and GCP keys has one plan for both.
		if !done[c.plan] {
			done[c.plan] = true
			out = append(append(out, c.plan.edits...), c.plan.permEdits...)
		}
	}
	if len(a.wfAWS) > 0 {
		// The jobs no longer need the workflow's keys.
		es, why := a.removeKeys(a.file.Docs[0].Body, a.wfEnv)
		if why != "" {
			return nil, errors.New(why)
		}
		out = append(out, es...)
	}
	return out, nil
}

// checkOutput checks the rewritten file: it parses, no migrated key is
// left, every job the rewrite did not migrate and every top-level entry
// but jobs and env decode as before, and each migrated job has the
// replacement step with its identity inputs and id-token: write in
// effect.
func (a *analysis) checkOutput(name string, out []byte, o Options) error {
	b := scan(name, out, o)
	if b.file == nil {
		return errors.New("the result does not parse")
	}
	if len(b.aws) != 0 || len(b.gcp) != 0 {
		return errors.New("keys are left in the result")
	}
	var before, after map[string]any
	if err := yaml.Unmarshal(a.src, &before); err != nil {
		return fmt.Errorf("decoding the workflow: %w", err)
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		return fmt.Errorf("decoding the result: %w", err)
	}
	for k, v := range before {
		if k != "jobs" && k != "env" && !reflect.DeepEqual(v, after[k]) {
			return fmt.Errorf("top-level %s changed", k)
		}
	}
	migrated := map[string]bool{}
	for _, c := range slices.Concat(a.aws, a.gcp) {
		migrated[c.j.Job] = true
	}
	bj, _ := before["jobs"].(map[string]any)
	aj, _ := after["jobs"].(map[string]any)
	if len(bj) != len(aj) {
		return errors.New("the number of jobs changed")
	}
	for id, v := range bj {
		if !migrated[id] {
			if !reflect.DeepEqual(v, aj[id]) {
				return fmt.Errorf("job %s changed although it is not migrated", id)
			}
			continue
		}
		if err := checkJob(after, aj[id]); err != nil {
			return fmt.Errorf("job %s: %w", id, err)
		}
	}
	return nil
}

// checkJob checks that a migrated job would get credentials: an
// oidc-exchange step with its identity inputs, and id-token: write from
// the job's permissions or, without them, the workflow's.
func checkJob(wf map[string]any, v any) error {
	job, _ := v.(map[string]any)
	perm, ok := job["permissions"]
	if !ok {
		perm = wf["permissions"]
	}
	switch p := perm.(type) {
	case string:
		if p != "write-all" {
			return fmt.Errorf("permissions %s lack id-token: write", p)
		}
	case map[string]any:
		if p["id-token"] != "write" {
			return errors.New("permissions lack id-token: write")
		}
	default:
		return errors.New("no permissions with id-token: write")
	}
	steps, _ := job["steps"].([]any)
	found := false
	for _, s := range steps {
		st, _ := s.(map[string]any)
		if st["uses"] != Action && st["uses"] != NativeAction {
			continue
		}
		found = true
		with, _ := st["with"].(map[string]any)
		want := []string{"role-to-assume", "aws-region"}
		if with["provider"] == "gcp" {
			want = []string{"workload-identity-provider"}
		}
		for _, k := range want {
			if s, _ := with[k].(string); s == "" {
				return fmt.Errorf("the oidc-exchange step has no %s", k)
			}
		}
	}
	if !found {
		return errors.New("no oidc-exchange step")
	}
	return nil
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type edit struct {
	kind byte // ' ', '-', '+'
	a, b int  // line indexes in a (for ' ', '-') and b (for ' ', '+')
}

// lcs returns the edit script from a to b by longest common subsequence:
// Myers' O((N+M)·D) algorithm after the common head and tail are cut off,
// since a migration changes a few lines per job. A table of N×M cells, as
// before, took 3 GB and 13 s for a workflow of 20,000 lines. In a changed
// run the removed lines come before the added ones.
func lcs(a, b []string) []edit {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	kinds := slices.Repeat([]byte{' '}, head)
	kinds = append(kinds, myers(a[head:len(a)-tail], b[head:len(b)-tail])...)
	kinds = append(kinds, slices.Repeat([]byte{' '}, tail)...)
	// Removals first within each run of changes.
	for i := 0; i < len(kinds); {
		if kinds[i] == ' ' {
			i++
			continue
		}
		k := i
		for k < len(kinds) && kinds[k] != ' ' {
			k++
		}
		slices.SortStableFunc(kinds[i:k], func(x, y byte) int { return int(y) - int(x) }) // '-' > '+'
		i = k
	}
	out := make([]edit, 0, len(kinds))
	i, j := 0, 0
	for _, k := range kinds {
		out = append(out, edit{k, i, j})
		if k != '+' {
			i++
		}
		if k != '-' {
			j++
		}
	}
	return out
}

// myers returns the kinds (' ', '-', '+') of a shortest edit script from
// a to b. It keeps the furthest-reaching paths of each step, O(D²) ints,
// to walk back from the end.
func myers(a, b []string) []byte {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return append(slices.Repeat([]byte{'-'}, n), slices.Repeat([]byte{'+'}, m)...)
	}
	off := n + m
	v := make([]int, 2*off+2)
	var trace [][]int // trace[d][k+d]: furthest x on diagonal k after step d
	for d := 0; d <= n+m; d++ {
		done := false
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				done = true
				break
			}
		}
		trace = append(trace, slices.Clone(v[off-d:off+d+1]))
		if done {
			break
		}
	}
	var rev []byte
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		pk := k - 1
		if k == -d || k != d && at(k-1) < at(k+1) {
			pk = k + 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			rev = append(rev, ' ')
			x, y = x-1, y-1
		}
		if pk == k+1 {
			rev = append(rev, '+')
		} else {
			rev = append(rev, '-')
		}
		x, y = px, py
	}
	for ; x > 0; x-- {
		rev = append(rev, ' ')
	}
	slices.Reverse(rev)
	return rev
}

// unifiedDiff renders a unified diff with three lines of context.
func unifiedDiff(from, to, a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	es := lcs(al, bl)
	const ctx = 3
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	for i := 0; i < len(es); {
		if es[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(es) {
			if es[end].kind != ' ' {
				end++
				continue
			}
			k := end
			for k < len(es) && es[k].kind == ' ' {
				k++
			}
			if k == len(es) || k-end > 2*ctx {
				end = min(end+ctx, len(es))
				break
			}
			end = k
		}
		hunk := es[start:end]
		aStart, bStart := hunk[0].a, hunk[0].b
		var na, nb int
		var body strings.Builder
		for _, e := range hunk {
			switch e.kind {
			case ' ':
				na++
				nb++
				body.WriteString(" " + al[e.a] + "\n")
			case '-':
				na++
				body.WriteString("-" + al[e.a] + "\n")
			case '+':
				nb++
				body.WriteString("+" + bl[e.b] + "\n")
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, na), hunkRange(bStart, nb))
		out.WriteString(body.String())
		i = end
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
