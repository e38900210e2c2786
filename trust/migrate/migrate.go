package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/oidc-exchange/oidc-exchange/trust"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// Action is the replacement action.
const Action = "oidc-exchange/oidc-exchange@v1"

// ErrNoWorkflows is the error of a [Scan] that found no workflow file.
var ErrNoWorkflows = errors.New("no workflows found")

// Options configure [Scan].
type Options struct {
	// Repository is OWNER/REPO, for the trust configuration. Without it no
	// plan is built.
	Repository string
	// RepositoryID and OwnerID are GitHub's numeric ids, optional, given
	// together; with them the plan pins ids.
	RepositoryID, OwnerID string
	// DefaultBranch is the branch assumed for workflow_dispatch, schedule
	// and unfiltered push triggers. Without it only a workflow's own
	// push: branches: names the ref; otherwise the plan is not built,
	// since a guess (main for a master repository) admits the wrong ref.
	DefaultBranch string
	// RoleARN is the role-to-assume written; default a placeholder in
	// account 111122223333.
	RoleARN string
	// Region is the aws-region written when the workflow sets no
	// AWS_REGION or AWS_DEFAULT_REGION; default a placeholder, with a
	// warning.
	Region string
	// WorkloadIdentityProvider and ServiceAccount fill the GCP snippet
	// and the rewritten GCP steps that do not name their own; default
	// placeholders.
	WorkloadIdentityProvider, ServiceAccount string
}

func (o Options) branch() string { return o.DefaultBranch }

func (o Options) roleARN() string {
	if o.RoleARN != "" {
		return o.RoleARN
	}
	name := "github-deploy"
	if _, repo, ok := strings.Cut(o.Repository, "/"); ok && repo != "" {
		name = "github-" + repo
	}
	return "arn:aws:iam::" + plan.PlaceholderAccountID + ":role/" + name
}

func (o Options) wip() string {
	if o.WorkloadIdentityProvider != "" {
		return o.WorkloadIdentityProvider
	}
	return "projects/" + plan.PlaceholderProjectNum + "/locations/global/workloadIdentityPools/" + plan.DefaultPoolID + "/providers/github"
}

func (o Options) sa() string {
	if o.ServiceAccount != "" {
		return o.ServiceAccount
	}
	return plan.PlaceholderSAName + "@" + plan.PlaceholderProjectID + ".iam.gserviceaccount.com"
}

// Finding is one use of a long-lived credential.
type Finding struct {
	Rule string `json:"rule"`
	// Severity is the rule's ([Rule.Severity]).
	Severity trust.Severity `json:"severity"`
	File     string         `json:"file"`
	Line     int            `json:"line"`
	Column   int            `json:"column"`
	Job      string         `json:"job,omitempty"`
	Secrets  []string       `json:"secrets"`
	Message  string         `json:"message"`
}

// Job is the migration of one job to one cloud.
type Job struct {
	File string `json:"file"`
	Job  string `json:"job"`
	Line int    `json:"line"`
	// Column is the column of the job's key, like Line.
	Column int        `json:"column,omitempty"`
	Cloud  plan.Cloud `json:"cloud"`
	// Secrets are the secret names the job's credentials come from.
	Secrets []string `json:"secrets"`
	// Ref and Environment are what the trust configuration admits.
	Ref         string `json:"ref,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Step is the replacement step as YAML.
	Step string `json:"step"`
	// Permissions is the job's permissions block after migration, as YAML.
	Permissions string `json:"permissions"`
	// Rewritable reports whether [Report.Write] rewrites this job; if not,
	// Reason says why.
	Rewritable bool   `json:"rewritable"`
	Reason     string `json:"reason,omitempty"`
	// Warnings are what a rewritten job still needs from the user: a
	// placeholder region, permissions narrowed from the defaults, inputs
	// dropped, runs that get no OIDC token.
	Warnings []string `json:"warnings,omitempty"`
	// Plan is the trust configuration; nil with PlanError set when it
	// could not be built (e.g. no repository given).
	Plan      *plan.Plan `json:"-"`
	PlanError string     `json:"planError,omitempty"`
	// PlanID names the report's trust configuration that admits this job,
	// shared by the jobs that need the same one.
	PlanID string `json:"plan,omitempty"`
}

// Report is the result of [Scan].
type Report struct {
	// Dir is the scanned directory; files are relative to it.
	Dir      string
	Findings []Finding
	Jobs     []*Job
	// Diff is the unified diff of what [Report.Apply] rewrote; "" for a
	// scan.
	Diff string
	// Rewritten are the jobs [Report.Apply] rewrote. They left the scan,
	// but not what the user must still do: create their trust
	// configuration before the next run, and act on their warnings.
	Rewritten []*Job
	plans     []*trustPlan
	opts      Options
}

// Scan reads dir/.github/workflows/*.yml and *.yaml. A dir that does not
// exist, or has no workflow files, is an error: a scan that read nothing
// must not look like a clean result. A file that is not a workflow (not
// YAML, several documents, not a mapping) is a [RuleWorkflowInvalid]
// finding, and every job --write would leave as it is a
// [RuleRewriteRefused] finding with the reason. A reusable workflow that
// needs id-token: write after the migration is checked against the jobs
// of the scanned workflows that call it ([RuleReusableIDToken]).
func Scan(dir string, opts Options) (*Report, error) {
	r := &Report{Dir: dir, opts: opts}
	files, err := workflowFiles(dir)
	if err != nil {
		return nil, err
	}
	var infos []workflowInfo
	for _, name := range files {
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading a workflow: %w", err)
		}
		// The parser counts lines wrong in CRLF files, which moves every
		// finding; CRLF and LF are the same YAML.
		a := analyze(name, bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")), opts)
		if a.invalid != "" {
			r.Findings = append(r.Findings, Finding{Rule: RuleWorkflowInvalid, File: name, Line: a.invalidLine, Column: a.invalidColumn,
				Message: a.invalid + "; the file was not scanned"})
		}
		r.Findings = append(r.Findings, a.findings...)
		r.Jobs = append(r.Jobs, a.jobs...)
		infos = append(infos, a.info)
	}
	// Reusable workflows are checked against their callers once every
	// file is read.
	r.Findings = append(r.Findings, callerChecks(infos, r.Jobs, opts.Repository)...)
	for _, j := range r.Jobs {
		buildPlan(j, opts)
		if !j.Rewritable {
			r.Findings = append(r.Findings, refusal(j))
		}
	}
	r.plans = groupPlans(r.Jobs)
	for i := range r.Findings {
		rule, ok := ruleByID(r.Findings[i].Rule)
		if !ok {
			return nil, fmt.Errorf("finding for unknown rule %q", r.Findings[i].Rule)
		}
		r.Findings[i].Severity = rule.Severity
	}
	sortFindings(r.Findings)
	return r, nil
}

// refusal is the finding that --write leaves job j as it is.
func refusal(j *Job) Finding {
	rule, _ := ruleByID(RuleRewriteRefused)
	return Finding{Rule: RuleRewriteRefused, Severity: rule.Severity, File: j.File, Line: j.Line, Column: j.Column, Job: j.Job, Secrets: j.Secrets,
		Message: fmt.Sprintf("--write leaves job %s (%s) as it is: %s", j.Job, j.Cloud, j.Reason)}
}

// sortFindings orders findings by file, line and rule.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, k int) bool {
		a, b := fs[i], fs[k]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Rule < b.Rule
	})
}

func workflowFiles(dir string) ([]string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("scanning for workflows: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("scanning for workflows: %s is not a directory; pass the repository root", dir)
	}
	wf := filepath.Join(".github", "workflows")
	ents, err := os.ReadDir(filepath.Join(dir, wf))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s directory; pass the repository root", ErrNoWorkflows, dir, wf)
	}
	if err != nil {
		return nil, fmt.Errorf("scanning for workflows: %w", err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
			out = append(out, filepath.ToSlash(filepath.Join(wf, n)))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no *.yml or *.yaml file", ErrNoWorkflows, filepath.Join(dir, wf))
	}
	slices.Sort(out)
	return out, nil
}

func buildPlan(j *Job, o Options) {
	if j.Cloud != plan.AWS && j.Cloud != plan.GCP && j.Cloud != plan.Azure {
		return
	}
	if o.Repository == "" {
		j.PlanError = "no repository given: pass OWNER/REPO to build the trust configuration"
		return
	}
	if j.Ref == "" && j.Environment == "" {
		j.PlanError = "the default branch is unknown: pass --default-branch (the workflow has no push: branches: filter to read it from)"
		return
	}
	req := plan.Request{Cloud: j.Cloud, Repository: o.Repository, RepositoryID: o.RepositoryID, OwnerID: o.OwnerID, Environment: j.Environment}
	if j.Environment == "" {
		req.Ref = j.Ref
	}
	if j.Cloud == plan.GCP {
		gcpPlanRequest(&req, o)
	}
	p, err := plan.Build(req)
	if err != nil {
		j.PlanError = err.Error()
		return
	}
	j.Plan = p
}

// analysis is the result of analyzing one file.
type analysis struct {
	findings []Finding
	jobs     []*Job
	file     *ast.File
	// src and lineStarts locate nodes for the in-line edits. src has no
	// CRLF line ending: analyze maps the edits back to the file's.
	src        []byte
	lineStarts []int
	// result is the rewritten file when safe, applied the edits that
	// made it.
	result  string
	applied []srcEdit
	// wfEnv is the workflow's env, wfAWS its AWS keys from secrets.
	wfEnv *ast.MappingValueNode
	wfAWS []*ast.MappingValueNode
	// aws and gcp are the jobs [rewrite] would migrate; safe reports that
	// every one of them can be.
	aws, gcp []candidate
	safe     bool
	// invalid says why the file is not a workflow that could be read,
	// at invalidLine and invalidColumn when known.
	invalid                    string
	invalidLine, invalidColumn int
	// info is what the caller check of reusable workflows needs.
	info workflowInfo
}

// candidate is a job of one cloud that the rewrite would migrate.
type candidate struct {
	j    *Job
	plan *jobPlan
}

// awsKeyInputs are configure-aws-credentials inputs replaced by OIDC.
var awsKeyInputs = []string{"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}

// awsKeyEnv are environment variables that carry static AWS keys.
var awsKeyEnv = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// deployActions are actions known to take a long-lived deploy credential,
// with the input that carries it. Report-only: each needs its own
// federation set-up.
var deployActions = map[string][]string{
	"pulumi/actions":                        {"pulumi-access-token"},
	"cloudflare/wrangler-action":            {"apiToken", "api-token"},
	"amondnet/vercel-action":                {"vercel-token"},
	"netlify/actions/cli":                   {"NETLIFY_AUTH_TOKEN"},
	"digitalocean/action-doctl":             {"token"},
	"superfly/flyctl-actions":               {"FLY_API_TOKEN"},
	"docker/login-action":                   {"password"},
	"pypa/gh-action-pypi-publish":           {"password"},
	"hashicorp/setup-terraform":             {"cli_config_credentials_token"},
	"azure/webapps-deploy":                  {"publish-profile"},
	"google-github-actions/deploy-cloudrun": {"credentials"},
}

func actionName(uses string) string {
	name, _, _ := strings.Cut(uses, "@")
	return strings.ToLower(name)
}

// analyze scans one workflow and decides which jobs [rewrite] can migrate
// (AWS and GCP), and makes the rewrite in memory.
func analyze(name string, src []byte, o Options) *analysis {
	if lf, ends, ok := lfText(src); ok {
		// The parser's positions are wrong in CRLF text (the lines of
		// block scalars and plain values are miscounted), so a file with
		// CRLF line endings, some or all, was refused or, worse, edited at
		// the wrong places. Analyzed as LF, its edits are mapped back to
		// the file line by line (restoreEndings).
		a := analyze(name, lf, o)
		a.restoreEndings(src, ends)
		return a
	}
	a := scan(name, src, o)
	if loneCR(src) {
		// A CR alone breaks a line for YAML but not for the line
		// arithmetic of the edits, which is what went wrong when a job
		// has another reason already.
		for _, c := range slices.Concat(a.aws, a.gcp) {
			c.j.Rewritable = false
			c.j.Reason = "the file has a carriage return that does not end a line as CRLF; rewrite it by hand"
		}
		a.safe = false
	}
	if a.safe {
		a.splice(name, o)
	}
	return a
}

// scan is analyze without the rewrite.
func scan(name string, src []byte, o Options) (a *analysis) {
	a = &analysis{}
	defer func() {
		// The AST library is not hardened against every input; a panic
		// while reading a file means "nothing found", never a crash.
		if recover() != nil {
			*a = analysis{invalid: "the YAML parser failed on this file"}
		}
	}()
	f, err := parser.ParseBytes(src, parser.ParseComments)
	if err != nil {
		a.invalid, a.invalidLine, a.invalidColumn = yamlError(err)
		return a
	}
	if len(f.Docs) != 1 || f.Docs[0] == nil || f.Docs[0].Body == nil {
		a.invalid = fmt.Sprintf("not a workflow: %d YAML documents, want one", len(f.Docs))
		if len(f.Docs) == 1 {
			a.invalid = "not a workflow: the file is empty"
		}
		return a
	}
	a.file, a.src = f, src
	a.lineStarts = []int{0}
	for i, c := range src {
		if c == '\n' {
			a.lineStarts = append(a.lineStarts, i+1)
		}
	}
	root := f.Docs[0].Body
	if _, ok := unwrap(root).(*ast.MappingNode); !ok {
		a.invalid = "not a workflow: the document is not a mapping"
		a.invalidLine, a.invalidColumn = line(root)
		return a
	}
	a.collectInfo(name, root)
	ref := refFromOn(onNode(root), o.branch())
	a.wfEnv = get(root, "env")
	a.wfAWS = secretEnv(a.wfEnv)
	jobsMV := get(root, "jobs")
	if jobsMV == nil {
		return a
	}
	for _, jmv := range entries(jobsMV.Value) {
		id := keyOf(jmv)
		job := jmv.Value
		jl, jc := line(jmv.Key)
		env := environment(get(job, "environment"))
		mk := func(c plan.Cloud, secrets []string, step string) *Job {
			return &Job{File: name, Job: id, Line: jl, Column: jc, Cloud: c, Secrets: uniq(secrets), Ref: ref, Environment: env, Step: step}
		}
		jp := a.scanJob(name, id, jmv, a.wfAWS)
		if jp.aws() {
			j := mk(plan.AWS, jp.awsSecrets, awsStep(jp.action, o.roleARN(), "<aws-region>"))
			j.Reason = a.checkAWS(jp, o, j)
			j.Rewritable = j.Reason == ""
			a.jobs = append(a.jobs, j)
			a.aws = append(a.aws, candidate{j, jp})
		}
		if jp.gcp() {
			j := mk(plan.GCP, jp.gcpSecrets, gcpStep(jp.action, o.wip(), o.sa()))
			j.Reason = a.checkGCP(jp, o, j)
			j.Rewritable = j.Reason == ""
			a.jobs = append(a.jobs, j)
			a.gcp = append(a.gcp, candidate{j, jp})
		}
		wd := a.scanWider(name, id, jmv)
		if len(wd.aws) > 0 && !jp.aws() {
			j := mk(plan.AWS, wd.aws, awsStep(jp.action, o.roleARN(), "<aws-region>"))
			j.Reason = "AWS keys given to another action or under other env names are report-only: how the action or tool reads them is unknown"
			a.jobs = append(a.jobs, j)
		}
		if len(wd.gcp) > 0 && !jp.gcp() {
			j := mk(plan.GCP, wd.gcp, gcpStep(jp.action, o.wip(), o.sa()))
			j.Reason = "service-account keys in env or given to actions other than google-github-actions/auth are report-only: how the action or tool reads them is unknown"
			a.jobs = append(a.jobs, j)
		}
		if az := slices.Concat(jp.azureSecrets, wd.azure); len(az) > 0 {
			j := mk(plan.Azure, az, azureStep())
			if a.permissions(jp) == "" {
				j.Permissions = jp.permAfter
			}
			j.Reason = "Azure findings are report-only: azure/login supports OIDC with client-id, tenant-id and subscription-id"
			a.jobs = append(a.jobs, j)
		}
	}
	a.verifyGCP()
	a.findings = dropJobTokens(a.findings)
	// A file is migrated whole or not at all: a job that cannot be
	// rewritten keeps the file as it is, so workflow-level keys, which
	// reach every job, are never half removed.
	var blocker *Job
	all := slices.Concat(a.aws, a.gcp)
	for _, c := range all {
		if !c.j.Rewritable && blocker == nil {
			blocker = c.j
		}
	}
	safe := blocker == nil
	if len(a.wfAWS) > 0 {
		for _, jmv := range entries(jobsMV.Value) {
			if !slices.ContainsFunc(a.aws, func(c candidate) bool { return c.j.Job == keyOf(jmv) }) {
				safe = false
			}
		}
	}
	for _, c := range all {
		if safe || !c.j.Rewritable {
			continue
		}
		c.j.Rewritable = false
		switch {
		case blocker == nil:
			c.j.Reason = "another job in this workflow cannot be rewritten safely; the file is left untouched"
		case blocker.Job == c.j.Job:
			c.j.Reason = fmt.Sprintf("this job's %s credentials cannot be rewritten safely; the file is left untouched", blocker.Cloud)
		default:
			c.j.Reason = fmt.Sprintf("job %s (%s) in this workflow cannot be rewritten safely; the file is left untouched", blocker.Job, blocker.Cloud)
		}
	}
	a.safe = safe && len(all) > 0
	return a
}

// yamlError returns the parser's message and position, without the
// source excerpt its Error() adds.
func yamlError(err error) (msg string, line, column int) {
	var pe interface {
		GetMessage() string
		GetToken() *token.Token
	}
	if !errors.As(err, &pe) {
		return "not valid YAML: " + err.Error(), 0, 0
	}
	msg = "not valid YAML: " + pe.GetMessage()
	if tk := pe.GetToken(); tk != nil && tk.Position != nil {
		return msg, tk.Position.Line, tk.Position.Column
	}
	return msg, 0, 0
}

func onNode(root ast.Node) ast.Node {
	if mv := get(root, "on"); mv != nil {
		return mv.Value
	}
	// YAML 1.1 readers turn on into true; goccy keeps the text.
	if mv := get(root, "true"); mv != nil {
		return mv.Value
	}
	return nil
}

// refFromOn picks the ref a trust policy should admit from the triggers.
func refFromOn(on ast.Node, def string) string {
	branchRef := ""
	if def != "" {
		branchRef = "refs/heads/" + def
	}
	if on == nil {
		return branchRef
	}
	push := get(on, "push")
	if push == nil {
		return branchRef
	}
	if bs := seq(getValue(push.Value, "branches")); len(bs) > 0 {
		if b := scalar(bs[0]); refOK(b) {
			return "refs/heads/" + b
		}
		return branchRef
	}
	if ts := seq(getValue(push.Value, "tags")); len(ts) > 0 {
		if t := scalar(ts[0]); refOK(t) {
			return "refs/tags/" + t
		}
	}
	return branchRef
}

func getValue(n ast.Node, k string) ast.Node {
	if mv := get(n, k); mv != nil {
		return mv.Value
	}
	return nil
}

// refOK accepts a literal name with at most one trailing "*", the only
// wildcard a plan takes.
func refOK(s string) bool {
	s = strings.TrimSuffix(s, "*")
	return s != "" && !strings.ContainsAny(s, "*?[]!+\\{}$ ")
}

func environment(mv *ast.MappingValueNode) string {
	if mv == nil {
		return ""
	}
	v := scalar(mv.Value)
	if v == "" {
		v = scalar(getValue(mv.Value, "name"))
	}
	if strings.Contains(v, "${{") {
		return ""
	}
	return v
}

// secretEnv returns the AWS key entries of an env mapping that come from
// secrets.
func secretEnv(env *ast.MappingValueNode) []*ast.MappingValueNode {
	if env == nil {
		return nil
	}
	var out []*ast.MappingValueNode
	for _, e := range entries(env.Value) {
		if slices.Contains(awsKeyEnv, keyOf(e)) && len(secretsIn(scalar(e.Value))) > 0 {
			out = append(out, e)
		}
	}
	return out
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func awsStep(action, role, region string) string {
	return "- name: Configure AWS credentials\n  uses: " + action + "\n  with:\n    provider: aws\n    role-to-assume: " + role + "\n    aws-region: " + region + "\n"
}

func gcpStep(action, wip, sa string) string {
	return "- name: Authenticate to Google Cloud\n  uses: " + action + "\n  with:\n    provider: gcp\n    workload-identity-provider: " + wip + "\n    service-account: " + sa + "\n"
}

func azureStep() string {
	return "- name: Azure login\n  uses: azure/login@v2\n  with:\n    client-id: " + plan.PlaceholderAzureClient + "\n    tenant-id: ${{ vars.AZURE_TENANT_ID }}\n    subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}\n"
}
