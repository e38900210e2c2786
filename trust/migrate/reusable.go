package migrate

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// A job of a reusable workflow (on: workflow_call) gets id-token: write
// only when the job that calls it grants it: GitHub caps a called
// workflow's permissions at the caller's and refuses to start a run whose
// called job asks for more. So a reusable workflow migrated to OIDC works
// only once every caller grants id-token: write, which the rewrite cannot
// do for callers it does not see; it says which callers lack it.

// workflowInfo is what the caller check needs from one workflow file.
type workflowInfo struct {
	file string
	// reusable reports on: workflow_call.
	reusable bool
	// calls are the jobs that call a reusable workflow.
	calls []reusableCall
	// oidcJobs are the jobs with an oidc-exchange step already.
	oidcJobs []jobRef
}

// jobRef locates a job's key.
type jobRef struct {
	job          string
	line, column int
}

// reusableCall is a job that calls a reusable workflow (uses:).
type reusableCall struct {
	jobRef
	uses string
	// grants reports whether the job grants id-token: write; if not,
	// why says what its permissions are.
	grants bool
	why    string
}

// workflowInfo collects, while scanning, what [callerChecks] needs.
func (a *analysis) collectInfo(name string, root ast.Node) {
	a.info = workflowInfo{file: name, reusable: slices.Contains(events(onNode(root)), "workflow_call")}
	for _, jmv := range entries(getValue(root, "jobs")) {
		l, c := line(jmv.Key)
		ref := jobRef{keyOf(jmv), l, c}
		job := jmv.Value
		if uses := scalar(getValue(job, "uses")); uses != "" {
			grants, why := grantsIDToken(job, root)
			a.info.calls = append(a.info.calls, reusableCall{ref, uses, grants, why})
			continue
		}
		for _, step := range seq(getValue(job, "steps")) {
			if act := actionName(scalar(getValue(step, "uses"))); act == "oidc-exchange/oidc-exchange" || strings.HasPrefix(act, "oidc-exchange/oidc-exchange/") {
				a.info.oidcJobs = append(a.info.oidcJobs, ref)
				break
			}
		}
	}
}

// grantsIDToken reports whether a job's permissions, or without them the
// workflow's, grant id-token: write: write-all does, a mapping does with
// id-token: write, and no permissions at all leave the repository's
// default, which never includes id-token. If not, it says what it found.
func grantsIDToken(job, root ast.Node) (bool, string) {
	perm, whose := get(job, "permissions"), "its permissions"
	if perm == nil {
		perm, whose = get(root, "permissions"), "its workflow's permissions"
	}
	if perm == nil {
		return false, "neither the job nor its workflow sets permissions, and the default grants no id-token"
	}
	switch v := scalar(perm.Value); v {
	case "write-all":
		return true, ""
	case "":
	default:
		return false, whose + " are " + v
	}
	if scalar(getValue(perm.Value, "id-token")) == "write" {
		return true, ""
	}
	return false, whose + " lack id-token: write"
}

// calls reports whether uses names the workflow file of this repository:
// ./.github/workflows/FILE, or OWNER/REPO/.github/workflows/FILE@REF with
// OWNER/REPO the repository of [Options].
func calls(uses, file, repo string) bool {
	if strings.HasPrefix(uses, "./") {
		return path.Clean(uses) == file
	}
	target, _, ok := strings.Cut(uses, "@")
	parts := strings.SplitN(target, "/", 3)
	return ok && repo != "" && len(parts) == 3 && strings.EqualFold(parts[0]+"/"+parts[1], repo) && parts[2] == file
}

// callerChecks returns a [RuleReusableIDToken] finding for each job that
// calls a reusable workflow needing id-token: write without granting it,
// or for the reusable workflow when no scanned workflow calls it, and
// adds the same as a warning to each of its jobs the rewrite migrates. A
// reusable workflow needs id-token: write when the rewrite migrates one
// of its jobs (AWS or GCP) or one has an oidc-exchange step already.
func callerChecks(wfs []workflowInfo, jobs []*Job, repo string) []Finding {
	var out []Finding
	for _, wf := range wfs {
		if !wf.reusable {
			continue
		}
		var needs []jobRef
		var migrated []*Job
		for _, j := range jobs {
			if j.File != wf.file || !j.Rewritable || j.Cloud != plan.AWS && j.Cloud != plan.GCP {
				continue
			}
			migrated = append(migrated, j)
			if !slices.ContainsFunc(needs, func(r jobRef) bool { return r.job == j.Job }) {
				needs = append(needs, jobRef{j.Job, j.Line, j.Column})
			}
		}
		for _, r := range wf.oidcJobs {
			if !slices.ContainsFunc(needs, func(n jobRef) bool { return n.job == r.job }) {
				needs = append(needs, r)
			}
		}
		if len(needs) == 0 {
			continue
		}
		names := make([]string, len(needs))
		for i, n := range needs {
			names[i] = n.job
		}
		which := fmt.Sprintf("job %s of the reusable workflow %s", strings.Join(names, ", "), wf.file)
		if len(names) > 1 {
			which = fmt.Sprintf("jobs %s of the reusable workflow %s", strings.Join(names, ", "), wf.file)
		}
		found := false
		for _, caller := range wfs {
			for _, c := range caller.calls {
				if !calls(c.uses, wf.file, repo) {
					continue
				}
				found = true
				if c.grants {
					continue
				}
				out = append(out, Finding{Rule: RuleReusableIDToken, File: caller.file, Line: c.line, Column: c.column, Job: c.job,
					Message: fmt.Sprintf("job %s calls %s, which needs id-token: write for OIDC, but %s: add id-token: write to this job's permissions, or GitHub refuses to start the run", c.job, which, c.why)})
				for _, j := range migrated {
					j.Warnings = append(j.Warnings, fmt.Sprintf("this reusable workflow is called by job %s of %s, which does not grant id-token: write (%s): add it to that job's permissions, or GitHub refuses to start the run", c.job, caller.file, c.why))
				}
			}
		}
		if found {
			continue
		}
		out = append(out, Finding{Rule: RuleReusableIDToken, File: wf.file, Line: needs[0].line, Column: needs[0].column, Job: needs[0].job,
			Message: fmt.Sprintf("%s needs id-token: write for OIDC, and no scanned workflow calls it: every job that calls it, in this repository or another, must grant id-token: write, or GitHub refuses to start the run", which)})
		for _, j := range migrated {
			j.Warnings = append(j.Warnings, "this is a reusable workflow (on: workflow_call) and no scanned workflow calls it: every job that calls it, in this repository or another, must grant id-token: write, or GitHub refuses to start the run")
		}
	}
	return out
}
